/**
 * GET /v1/attestation/report?nonce=<64 hex>&signing_algo=ecdsa|ed25519 — the report of
 * docs/protocol.md. report_data binds the signer chosen by signing_algo, the E2E key,
 * (no TLS key: TLS may end outside the enclave) and the GPU evidence for THIS nonce,
 * then the nonce itself (src/attest/binding.ts).
 */
import type { Handler } from "hono";
import { buildAttestationReport } from "../../attest/report/build.js";
import type { TeeProvider } from "../../attest/provider.js";
import type { AttestationReport, ReportInfo } from "../../attest/report/format.js";
import { GatewayError } from "../../errors.js";
import { parseNonce } from "../../types.js";
import { fromHex } from "../../util/bytes.js";
import type { GatewayEnv } from "../context.js";
import { GatewayCode } from "../errors.js";
import { parseSigningAlgo, type Signers } from "../middleware/signing.js";

export interface AttestationDeps {
  readonly tee: TeeProvider;
  readonly signers: Signers;
  readonly e2ePublicKey: Uint8Array;
  readonly info: ReportInfo;
}

export async function buildReport(deps: AttestationDeps, nonceHex: string, algoParam: string | undefined): Promise<AttestationReport> {
  let nonce: string;
  try {
    nonce = parseNonce(nonceHex);
  } catch (cause) {
    throw new GatewayError(400, GatewayCode.INVALID_PARAMS, "nonce must be 64 hex characters (32 random bytes)", { param: "nonce", cause });
  }
  const algo = parseSigningAlgo(algoParam, "signing_algo");
  const signer = deps.signers[algo];
  try {
    // The one producer of the layout (src/attest/report/build.ts), shared with the verifier's tests.
    return await buildAttestationReport(deps.tee, { nonce: fromHex(nonce), signingAlgo: algo, signingPublicKey: signer.publicKey, e2ePublicKey: deps.e2ePublicKey, tlsSpki: null, info: deps.info });
  } catch (cause) {
    throw new GatewayError(503, "TEE_UNAVAILABLE", `the TEE (${deps.tee.name}) could not produce evidence`, { cause });
  }
}

export function attestationHandler(deps: AttestationDeps): Handler<GatewayEnv> {
  return async (c) => {
    const nonce = c.req.query("nonce");
    if (!nonce) throw new GatewayError(400, GatewayCode.INVALID_PARAMS, "nonce is required: pass ?nonce=<64 hex> (a report without one proves nothing fresh)", { param: "nonce" });
    return c.json(await buildReport(deps, nonce, c.req.query("signing_algo")));
  };
}
