/**
 * Test helper: a local Intel PCS / PCCS on 127.0.0.1 serving google-tdx's saved PCS
 * responses (valid at 2023-06-30), with the issuer chains in the headers PCS uses.
 * No test reaches Intel.
 */
import { X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { toHex } from "../../util/bytes.js";
import { INTEL_SGX_ROOT_CA_PEM } from "./intel-root.js";
import { INTEL_TCB_SIGNING_PEMS } from "./tcb-signing-certs.js";
import { googleFile, intelCollateral } from "./test-vectors.js";

export interface FakePcs {
  readonly url: string;
  readonly requests: string[];
  /** When true every route answers 404. */
  failWith404: boolean;
  close(): Promise<void>;
}

/**
 * `tcbSigningValidAt`: serve the Intel TCB Signing certificate that was valid then (PCS
 * served the 2018-2025 one in 2023); default: the chain of the dcap-qvl collateral (2025).
 */
export async function startFakePcs(opts: { tcbSigningValidAt?: Date } = {}): Promise<FakePcs> {
  // Issuer chains: Intel's TCB Signing and PCK Platform CA chains (from the dcap-qvl collateral).
  const chains = { ...intelCollateral("tdx_quote_collateral.json") };
  const at = opts.tcbSigningValidAt;
  if (at) {
    const fit = INTEL_TCB_SIGNING_PEMS.find((p) => {
      const c = new X509Certificate(p);
      return new Date(c.validFrom) <= at && at < new Date(c.validTo);
    });
    if (!fit) throw new Error(`no embedded Intel TCB Signing certificate is valid at ${at.toISOString()}`);
    chains.tcb_info_issuer_chain = `${fit}${INTEL_SGX_ROOT_CA_PEM}`;
    chains.qe_identity_issuer_chain = chains.tcb_info_issuer_chain;
  }
  const routes: Record<string, { body: Uint8Array; headers: Record<string, string> }> = {
    "/tdx/certification/v4/tcb": {
      body: googleFile("sample_tcbInfo_response"),
      headers: { "TCB-Info-Issuer-Chain": encodeURIComponent(chains.tcb_info_issuer_chain) },
    },
    "/tdx/certification/v4/qe/identity": {
      body: googleFile("sample_qeIdentity_response"),
      headers: { "SGX-Enclave-Identity-Issuer-Chain": encodeURIComponent(chains.qe_identity_issuer_chain) },
    },
    "/sgx/certification/v4/pckcrl": {
      body: googleFile("pckcrl"),
      headers: { "SGX-PCK-CRL-Issuer-Chain": encodeURIComponent(chains.pck_crl_issuer_chain) },
    },
    // A PCCS answers the root CA CRL as hex text.
    "/sgx/certification/v4/rootcacrl": { body: new TextEncoder().encode(toHex(googleFile("rootcrl.der"))), headers: {} },
  };
  const requests: string[] = [];
  const state = { failWith404: false };
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const route = routes[new URL(req.url ?? "/", "http://x").pathname];
    if (!route || state.failWith404) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, route.headers).end(Buffer.from(route.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    get failWith404() {
      return state.failWith404;
    },
    set failWith404(v: boolean) {
      state.failWith404 = v;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
