import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AttestationError } from "../../errors.js";
import { parseNonce, type Nonce } from "../../types.js";
import { fromHex, toHex, utf8 } from "../../util/bytes.js";
import { sharedPath } from "../../util/shared.js";
import { makeRuntimeEvent } from "../eventlog/dstack.js";
import { parsePolicy } from "../policy/schema.js";
import { createSimulatedNode } from "../simulator/report.js";
import { verifyAttestationReport } from "../verify.js";
import type { AttestationReport } from "./format.js";
import { UNCHECKED_ITEMS } from "../types.js";

const NONCE_BYTES = new Uint8Array(32).fill(0x42);
const NONCE = parseNonce(toHex(NONCE_BYTES));
const codes = (v: { errors: readonly { code: string }[] }): string[] => [...new Set(v.errors.map((e) => e.code))];

async function simulatedReport(opts: Parameters<typeof createSimulatedNode>[0] = {}): Promise<AttestationReport> {
  return createSimulatedNode(opts).report(NONCE_BYTES);
}

describe("Cloister report verification (simulated evidence)", () => {
  it("rejects a simulated report unless simulated evidence is allowed", async () => {
    const r = await simulatedReport();
    const strict = await verifyAttestationReport(r, { nonce: NONCE });
    expect(strict.verified).toBe(false);
    expect(codes(strict)).toEqual(["SIMULATED_NOT_ALLOWED"]);
    expect(strict.tee).toBe("simulated");
    const lax = await verifyAttestationReport(r, { nonce: NONCE, allowSimulated: true });
    expect(lax.errors).toEqual([]);
    expect(lax.verified).toBe(true);
    expect(lax.simulated).toBe(true);
    expect(lax.signingAddress).toBe(r.signing_address);
    expect(lax.appIdentity?.composeHash).toBe(r.info.compose_hash);
    expect(lax.measurements["compose_hash"]).toBe(r.info.compose_hash);
    expect(Object.keys(lax.measurements)).toContain("gpu0.m1");
  });

  it("rejects a report for another nonce", async () => {
    const v = await verifyAttestationReport(await simulatedReport(), { nonce: parseNonce("11".repeat(32)), allowSimulated: true });
    expect(codes(v)).toContain("NONCE_MISMATCH");
  });

  it("says plainly that a report checked without a nonce may be a replay", async () => {
    const v = await verifyAttestationReport(await simulatedReport(), { allowSimulated: true });
    expect(v.verified).toBe(true);
    expect(v.unchecked.some((u) => u.includes("replay"))).toBe(true);
  });

  it("rejects an echoed nonce that differs from what the quote carries", async () => {
    const r = { ...(await simulatedReport()), request_nonce: "11".repeat(32) };
    const v = await verifyAttestationReport(r, { nonce: parseNonce("11".repeat(32)), allowSimulated: true });
    expect(codes(v)).toContain("NONCE_MISMATCH");
  });

  it("rejects a swapped E2E key, signing key or GPU payload (report_data binding)", async () => {
    const r = await simulatedReport();
    const other = await simulatedReport();
    const e2e = await verifyAttestationReport({ ...r, e2e_public_key: other.e2e_public_key }, { nonce: NONCE, allowSimulated: true });
    expect(codes(e2e)).toEqual(["REPORT_DATA_MISMATCH"]);
    const signer = await verifyAttestationReport(
      { ...r, signing_public_key: other.signing_public_key, signing_address: other.signing_address },
      { nonce: NONCE, allowSimulated: true },
    );
    expect(codes(signer)).toEqual(["REPORT_DATA_MISMATCH"]);
    const gpu = await verifyAttestationReport({ ...r, nvidia_payload: other.nvidia_payload }, { nonce: NONCE, allowSimulated: true });
    expect(codes(gpu)).toEqual(["REPORT_DATA_MISMATCH"]);
  });

  it("rejects a signing address that is not the signing key's", async () => {
    const r = await simulatedReport();
    const v = await verifyAttestationReport({ ...r, signing_address: `0x${"ab".repeat(20)}` }, { nonce: NONCE, allowSimulated: true });
    expect(codes(v)).toEqual(["SIGNING_KEY_MISMATCH"]);
  });

  it("rejects an event log with an added app event (RTMR3 no longer replays)", async () => {
    const r = await simulatedReport();
    const v = await verifyAttestationReport(
      { ...r, event_log: [...r.event_log, makeRuntimeEvent("image-digest", utf8.encode("sha256:evil"))] },
      { nonce: NONCE, allowSimulated: true },
    );
    expect(codes(v)).toEqual(["RTMR_MISMATCH"]);
    expect(v.appIdentity).toBeNull();
  });

  it("rejects a compose file that is not the one RTMR3 recorded", async () => {
    const r = await simulatedReport();
    const v = await verifyAttestationReport({ ...r, info: { ...r.info, tcb_info: { app_compose: "services: {}\n" } } }, { nonce: NONCE, allowSimulated: true });
    expect(codes(v)).toEqual(["COMPOSE_HASH_MISMATCH"]);
  });

  it("verifies an ed25519 signer and a TLS key bound by its SPKI digest", async () => {
    const r = await simulatedReport({ signingAlgo: "ed25519", tlsSpki: utf8.encode("spki-der-bytes") });
    expect(r.tls_spki_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await verifyAttestationReport(r, { nonce: NONCE, allowSimulated: true })).errors).toEqual([]);
    const bad = await verifyAttestationReport({ ...r, tls_spki_sha256: "00".repeat(32) }, { nonce: NONCE, allowSimulated: true });
    expect(codes(bad)).toEqual(["REPORT_DATA_MISMATCH"]);
  });

  it("applies a policy: an unlisted measurement is MEASUREMENT_NOT_ALLOWED", async () => {
    const r = await simulatedReport();
    const ok = await verifyAttestationReport(r, { nonce: NONCE, policy: parsePolicy({ allowSimulated: true, measurements: { compose_hash: [r.info.compose_hash ?? ""] } }) });
    expect(ok.errors).toEqual([]);
    const bad = await verifyAttestationReport(r, { nonce: NONCE, policy: parsePolicy({ allowSimulated: true, measurements: { mrtd: ["00".repeat(48)] } }) });
    expect(codes(bad)).toEqual(["MEASUREMENT_NOT_ALLOWED"]);
  });

  it("reads a report without GPU evidence", async () => {
    const v = await verifyAttestationReport(await simulatedReport({ gpu: false }), { nonce: NONCE, allowSimulated: true });
    expect(v.errors).toEqual([]);
    expect(Object.keys(v.measurements).some((k) => k.startsWith("gpu"))).toBe(false);
  });

  it("throws EVIDENCE_UNREADABLE for a report of the wrong shape", async () => {
    const r = await simulatedReport();
    await expect(verifyAttestationReport({ ...r, signing_algo: "rsa" })).rejects.toThrow(AttestationError);
    await expect(verifyAttestationReport({ hello: 1 })).rejects.toMatchObject({ code: "EVIDENCE_UNREADABLE" });
    await expect(verifyAttestationReport("not json")).rejects.toMatchObject({ code: "EVIDENCE_UNREADABLE" });
  });
});

const nearPath = sharedPath("vectors", "near-ai", "nearai_cloud_report_openai_gpt_oss_120b.json");
const NEAR_NONCE = "deadbeef00000000000000000000000000000000000000000000000000000001" as Nonce;
const NEAR_NOW = new Date("2026-03-12T00:00:00Z");

describe.skipIf(!nearPath)(`NEAR AI Cloud report${nearPath ? "" : " (skipped: ../shared/vectors/near-ai missing)"}`, () => {
  const load = (): { gateway_attestation: Record<string, unknown>; model_attestations: Record<string, unknown>[] } =>
    JSON.parse(readFileSync(nearPath!, "utf8")) as { gateway_attestation: Record<string, unknown>; model_attestations: Record<string, unknown>[] };

  it("verifies quotes to Intel's root, report_data, event logs, compose hashes and 8 GPUs, and says TCB status is unchecked", async () => {
    const v = await verifyAttestationReport(load(), { nonce: NEAR_NONCE, now: NEAR_NOW, acceptUnchecked: UNCHECKED_ITEMS });
    expect(v.errors).toEqual([]);
    expect(v.verified).toBe(true);
    expect(v.tee).toBe("tdx");
    expect(v.simulated).toBe(false);
    expect(v.signingAddress).toBe("0x56d070df1c6be444b007839ef9cf67cec7c12b8b");
    expect(v.appIdentity?.composeHash).toBe("242a62724303cc32f364da0fc92738706b0078e7587821b7ba3e75488223797b");
    expect(v.measurements["gpu7.m1"]).toBeDefined();
    expect(v.measurements["gateway.mrtd"]).toBeDefined();
    expect(v.unchecked.some((u) => u.startsWith("TCB status"))).toBe(true);
  });

  it("fails without collateral unless the caller accepts each unchecked item by name (TCB_UNCHECKED, RIM_UNCHECKED, OCSP_UNCHECKED)", async () => {
    const v = await verifyAttestationReport(load(), { nonce: NEAR_NONCE, now: NEAR_NOW });
    expect(v.verified).toBe(false);
    expect(codes(v).sort()).toEqual(["OCSP_UNCHECKED", "RIM_UNCHECKED", "TCB_UNCHECKED"]);
    const partly = await verifyAttestationReport(load(), { nonce: NEAR_NONCE, now: NEAR_NOW, acceptUnchecked: ["tcb"] });
    expect(codes(partly).sort()).toEqual(["OCSP_UNCHECKED", "RIM_UNCHECKED"]);
    // A skipped check never reads as passed.
    expect(v.checks.filter((c) => c.skipped).every((c) => !c.ok)).toBe(true);
  });

  it("rejects it for another nonce", async () => {
    const v = await verifyAttestationReport(load(), { nonce: parseNonce("22".repeat(32)), now: NEAR_NOW, acceptUnchecked: UNCHECKED_ITEMS });
    expect(codes(v)).toContain("NONCE_MISMATCH");
  });

  it("rejects a tampered app_compose and a tampered event", async () => {
    const r = load();
    const m = r.model_attestations[0] as { info: { tcb_info: { app_compose: string } }; event_log: { event: string; event_payload: string }[] };
    m.info.tcb_info.app_compose += " ";
    expect(codes(await verifyAttestationReport(r, { nonce: NEAR_NONCE, now: NEAR_NOW, acceptUnchecked: UNCHECKED_ITEMS }))).toEqual(["COMPOSE_HASH_MISMATCH"]);
    const r2 = load();
    const ev = (r2.model_attestations[0] as { event_log: { event: string; event_payload: string; digest: string }[] }).event_log.find((e) => e.event === "compose-hash")!;
    ev.event_payload = "00".repeat(32);
    expect(codes(await verifyAttestationReport(r2, { nonce: NEAR_NONCE, now: NEAR_NOW, acceptUnchecked: UNCHECKED_ITEMS }))).toContain("EVENT_LOG_INVALID");
  });

  it("verifies a single model attestation on its own", async () => {
    const v = await verifyAttestationReport(load().model_attestations[0], { nonce: NEAR_NONCE, now: NEAR_NOW, acceptUnchecked: UNCHECKED_ITEMS });
    expect(v.errors).toEqual([]);
  });
});

const dstackDir = sharedPath("vectors", "dstack");

describe.skipIf(!dstackDir)(`dstack GetQuote responses${dstackDir ? "" : " (skipped: ../shared/vectors/dstack missing)"}`, () => {
  it("verifies the quote, report_data, replay and app identity", async () => {
    for (const f of ["tdx-lite-getquote.json", "quote-report.json"]) {
      const v = await verifyAttestationReport(readFileSync(`${dstackDir}/${f}`, "utf8"), { now: new Date("2026-06-01T00:00:00Z"), acceptUnchecked: ["tcb"] });
      expect(v.errors).toEqual([]);
      expect(v.appIdentity?.appId).toMatch(/^[0-9a-f]{40}$/);
    }
  });

  it("rejects a response whose report_data is not the quote's", async () => {
    const j = JSON.parse(readFileSync(`${dstackDir}/quote-report.json`, "utf8")) as Record<string, unknown>;
    const v = await verifyAttestationReport({ ...j, report_data: "ff".repeat(64) }, { now: new Date("2026-06-01T00:00:00Z"), acceptUnchecked: ["tcb"] });
    expect(codes(v)).toEqual(["REPORT_DATA_MISMATCH"]);
    expect(fromHex(String(j["report_data"])).length).toBe(64);
  });
});
