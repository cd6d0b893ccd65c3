/**
 * The console's in-browser report verifier (console/src/verify) against src/attest's Node
 * verifier on the same real simulator reports: both accept the intact report, and for
 * each tampering (swapped E2E key, a flipped bit in the signed quote body, a corrupted
 * PCK certificate, another nonce, a forged signing address) both refuse, at the same
 * named check. The browser must never be more lenient than the CLI.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { verifyAttestationReport } from "../../src/attest/verify.js";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { createGateway } from "../../src/gateway/app.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { parseNonce } from "../../src/types.js";
import { fakeBackend } from "../e2e/client-fixtures.js";
import { STRICT_POLICY, verifyReportInBrowser, type BrowserPolicy } from "../../console/src/verify/report.js";
import { checkRecord, decodeRecord, encodeRecord, makeRecord } from "../../console/src/verify/record.js";

const NONCE = "ab".repeat(32);
const ACCEPTING: BrowserPolicy = { allowSimulated: true, acceptTcbUnchecked: true, acceptGpuUnchecked: false };
type Report = Record<string, unknown> & { intel_quote: string; e2e_public_key: string; signing_address: string };

async function report(gpu: boolean): Promise<Report> {
  const app = createGateway({ backend: fakeBackend(), tee: createSimulatorProvider({ gpu }), store: openSqliteStore({ path: ":memory:" }), authRequired: false, consoleDir: null });
  const res = await app.request(`/v1/attestation/report?nonce=${NONCE}&signing_algo=ecdsa`);
  return (await res.json()) as Report;
}

const failed = (checks: readonly { name: string; ok: boolean; skipped?: boolean }[]): string[] => checks.filter((c) => !c.ok && !c.skipped && !/TCB|unchecked: tcb/.test(c.name)).map((c) => c.name);

function flipHex(hex: string, at: number): string {
  const i = at < 0 ? hex.length + at : at;
  return hex.slice(0, i) + (hex[i] === "0" ? "1" : "0") + hex.slice(i + 1);
}

describe("the console's browser verifier agrees with src/attest", () => {
  let base: Report;
  beforeAll(async () => {
    base = await report(false);
  });

  const node = async (r: unknown, nonce = NONCE): Promise<string[]> => failed((await verifyAttestationReport(r, { nonce: parseNonce(nonce), allowSimulated: true, acceptUnchecked: ["tcb"] })).checks);

  it("accepts the intact simulator report when simulated and unchecked TCB are accepted, and marks it simulated", async () => {
    const v = verifyReportInBrowser(base, NONCE, ACCEPTING);
    expect(failed(v.checks)).toEqual([]);
    expect(v.verified).toBe(true);
    expect(v.simulated).toBe(true);
    expect(await node(base)).toEqual([]);
    // Every check the browser passes, the Node verifier passes too (it runs more: collateral, CRLs).
    const n = await verifyAttestationReport(base, { nonce: parseNonce(NONCE), allowSimulated: true, acceptUnchecked: ["tcb"] });
    const nodePassed = new Set(n.checks.filter((c) => c.ok).map((c) => c.name));
    const browserPassed = v.checks.filter((c) => c.ok).map((c) => c.name);
    expect(browserPassed.length).toBeGreaterThan(12);
    // With collateral the Node path checks the QE against Intel's signed QE Identity instead
    // of the offline pin the browser (and the Node offline path) uses.
    expect(browserPassed.filter((x) => !nodePassed.has(x))).toEqual(["QE is Intel's quoting enclave"]);
  });

  it("refuses the simulator under the strict default, and the unchecked TCB unless accepted", () => {
    expect(failed(verifyReportInBrowser(base, NONCE, STRICT_POLICY).checks)).toContain("not simulated");
    const v = verifyReportInBrowser(base, NONCE, { ...ACCEPTING, acceptTcbUnchecked: false });
    expect(v.verified).toBe(false);
    expect(v.errors.map((e) => e.code)).toContain("TCB_UNCHECKED");
  });

  const tamperings: [string, (r: Report) => Report, string][] = [
    ["a swapped E2E key", (r) => ({ ...r, e2e_public_key: flipHex(r.e2e_public_key, -1) }), "report_data binding (v1)"],
    ["a flipped bit in the signed quote body (RTMR area)", (r) => ({ ...r, intel_quote: flipHex(r.intel_quote, 2 * 400) }), "quote signature"],
    ["a corrupted PCK certificate", (r) => ({ ...r, intel_quote: corruptPck(r.intel_quote) }), "PCK certificate chain"],
    ["a forged signing address", (r) => ({ ...r, signing_address: `0x${"11".repeat(20)}` }), "signing address"],
  ];
  for (const [what, tamper, check] of tamperings) {
    it(`refuses ${what} at "${check}", as the Node verifier does`, async () => {
      const bad = tamper(base);
      const v = verifyReportInBrowser(bad, NONCE, ACCEPTING);
      expect(v.verified).toBe(false);
      expect(failed(v.checks)).toContain(check);
      expect(await node(bad)).toContain(check);
    });
  }

  it("refuses a report answering another nonce", async () => {
    const other = "cd".repeat(32);
    const v = verifyReportInBrowser(base, other, ACCEPTING);
    expect(failed(v.checks)).toContain("nonce");
    expect(await node(base, other)).toContain("nonce");
  });

  it("checks simulated GPU evidence (chain, SPDM signature, nonce) like the Node verifier; RIM/OCSP fail closed unless accepted", async () => {
    const withGpu = await report(true);
    const v = verifyReportInBrowser(withGpu, NONCE, ACCEPTING);
    expect(v.verified).toBe(false);
    expect(v.errors.map((e) => e.code).sort()).toEqual(["OCSP_UNCHECKED", "RIM_UNCHECKED"]);
    const accepted = verifyReportInBrowser(withGpu, NONCE, { ...ACCEPTING, acceptGpuUnchecked: true });
    expect(accepted.verified).toBe(true);
    const gpuPassed = accepted.checks.filter((c) => c.ok && c.name.startsWith("GPU: ")).map((c) => c.name);
    expect(gpuPassed).toEqual(expect.arrayContaining(["GPU: payload nonce", "GPU: gpu0: device certificate chain", "GPU: gpu0: SPDM signature (ECDSA P-384, SHA-384)", "GPU: gpu0: nonce"]));
    const n = await verifyAttestationReport(withGpu, { nonce: parseNonce(NONCE), allowSimulated: true, acceptUnchecked: ["tcb"] });
    const nodePassed = new Set(n.checks.filter((c) => c.ok).map((c) => c.name));
    expect(gpuPassed.filter((x) => !nodePassed.has(x))).toEqual([]);
    expect(verifyReportInBrowser(withGpu, NONCE, { ...STRICT_POLICY, acceptTcbUnchecked: true, acceptGpuUnchecked: true }).errors.map((e) => e.code)).toContain("SIMULATED_NOT_ALLOWED");
  });

  it("refuses GPU evidence whose SPDM signature was broken, at the signature check, as the Node verifier does", async () => {
    const withGpu = await report(true);
    const payload = JSON.parse(withGpu["nvidia_payload"] as string) as { evidence_list: { evidence: string }[] };
    const ev = Buffer.from(payload.evidence_list[0]!.evidence, "base64");
    ev[ev.length - 10] = (ev[ev.length - 10] ?? 0) ^ 0x01; // inside the signature
    payload.evidence_list[0]!.evidence = ev.toString("base64");
    const bad = { ...withGpu, nvidia_payload: JSON.stringify(payload) };
    const name = "GPU: gpu0: SPDM signature (ECDSA P-384, SHA-384)";
    expect(failed(verifyReportInBrowser(bad, NONCE, { ...ACCEPTING, acceptGpuUnchecked: true }).checks)).toContain(name);
    expect(await node(bad)).toContain(name);
  });

  it("refuses what is not a report, without throwing", () => {
    const v = verifyReportInBrowser({ hello: "world" }, NONCE, ACCEPTING);
    expect(v.verified).toBe(false);
    expect(failed(v.checks)).toEqual(["report parses"]);
  });
});

describe("the signed verification record", () => {
  it("round-trips through a link, and any edit to it is caught", async () => {
    const r = await report(false);
    const v = verifyReportInBrowser(r, NONCE, ACCEPTING);
    const rec = makeRecord("http://node.example", NONCE, r, v, ACCEPTING);
    const back = decodeRecord(encodeRecord(rec));
    expect(back).not.toBeNull();
    const ok = checkRecord(back!);
    expect(ok).toMatchObject({ signatureOk: true, reportHashOk: true, verdictConsistent: true });
    // A record claiming "verified" for a report that is not: the signature breaks, and re-verifying disagrees.
    const lying = { ...rec, body: { ...rec.body, report: { ...r, e2e_public_key: flipHex(r.e2e_public_key, -1) } } };
    const c = checkRecord(lying);
    expect(c.signatureOk).toBe(false);
    expect(c.reportHashOk).toBe(false);
    expect(c.verdictConsistent).toBe(false);
    expect(checkRecord({ ...rec, body: { ...rec.body, verified: false } }).signatureOk).toBe(false);
    expect(decodeRecord("not-a-record")).toBeNull();
  });
});

/** Flips a byte inside the first PEM certificate's base64 in the quote's certification data. */
function corruptPck(quoteHex: string): string {
  const bytes = Buffer.from(quoteHex, "hex");
  const at = bytes.indexOf(Buffer.from("-----BEGIN CERTIFICATE-----\n", "latin1"));
  const i = at + 28 + 200;
  bytes[i] = bytes[i] === 0x41 ? 0x42 : 0x41;
  return bytes.toString("hex");
}
