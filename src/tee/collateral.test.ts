/**
 * The node fetches and caches its vendor collateral (issue 7, items 4 and 14): AMD's KDS
 * CRL for the VCEK's product and an OCSP answer per GPU certificate, from local stand-ins
 * for AMD and NVIDIA's services; a part it cannot fetch is left null and reported.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QuoteResult, TeeProvider } from "../attest/provider.js";
import { parseOcspResponse } from "../attest/nvidia/ocsp.js";
import { buildSimulatedGpuPayload } from "../attest/simulator/gpu.js";
import { SIMULATED_GPU_OCSP_HEX, SIMULATED_PCK_CRL_HEX } from "../attest/simulator/collateral-roots.js";
import { TEST_ASK_PEM, TEST_VCEK_OWN_CHIP_PEM } from "../attest/snp/test-chain.js";
import { fromHex } from "../util/bytes.js";
import { withCollateral } from "./collateral.js";

const hits: string[] = [];
let server: Server;
let url = "";
beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/vcek/v1/Genoa/crl") res.writeHead(200).end(Buffer.from(fromHex(SIMULATED_PCK_CRL_HEX)));
      else if (req.url === "/ocsp" && req.method === "POST" && chunks.length > 0 && parseable(Buffer.concat(chunks))) res.writeHead(200).end(Buffer.from(fromHex(SIMULATED_GPU_OCSP_HEX)));
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** The request is DER: a SEQUENCE that fills the body. */
function parseable(b: Buffer): boolean {
  return b[0] === 0x30 && b.length > 40;
}

const snpProvider: TeeProvider = {
  name: "fake-snp",
  simulated: false,
  getQuote: async (): Promise<QuoteResult> => ({ tee: "sev-snp", simulated: false, quote: new Uint8Array(1184), certChain: TEST_VCEK_OWN_CHIP_PEM + TEST_ASK_PEM, eventLog: [] }),
  getGpuEvidence: async (n) => buildSimulatedGpuPayload(n),
};

describe("withCollateral: the node serves vendor collateral beside its report", () => {
  it("fetches the KDS CRL for the VCEK's product and one OCSP answer per GPU certificate, then serves them from cache", async () => {
    const errors: string[] = [];
    const p = withCollateral(snpProvider, { kdsUrl: url, ocspUrl: `${url}/ocsp`, rimUrl: url, onError: (part) => errors.push(part) });
    const q = await p.getQuote(new Uint8Array(64));
    const payload = await p.getGpuEvidence(new Uint8Array(32));
    const c = await p.getCollateral?.(q, payload);
    expect(c?.amd_crl).toBe(SIMULATED_PCK_CRL_HEX);
    expect(c?.nvidia_ocsp).toEqual([SIMULATED_GPU_OCSP_HEX]);
    expect(parseOcspResponse(fromHex(c?.nvidia_ocsp?.[0] ?? "")).responses[0]?.status).toBe("good");
    expect(c?.intel).toBeNull();
    // The simulated GPU names no project/SKU, so no RIM id: that part is reported, left null.
    expect(c?.nvidia_rims).toBeNull();
    expect(errors).toEqual(["nvidia-rim"]);
    const before = hits.length;
    await p.getCollateral?.(q, payload);
    expect(hits.length).toBe(before); // cached
  });

  it("a vendor service that is down leaves its part null (the client then sees it unchecked)", async () => {
    const errors: string[] = [];
    const p = withCollateral(snpProvider, { kdsUrl: `${url}/down`, ocspUrl: `${url}/down`, onError: (part) => errors.push(part) });
    const c = await p.getCollateral?.(await p.getQuote(new Uint8Array(64)), null);
    expect(c).toMatchObject({ amd_crl: null, nvidia_rims: null, nvidia_ocsp: null, simulated: false });
    expect(errors).toEqual(["amd"]);
  });
});
