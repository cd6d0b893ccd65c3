import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sharedPath } from "../../util/shared.js";
import { readFileSync } from "node:fs";
import { AMD_SNP_ROOTS } from "./roots.js";
import { verifySnpReport } from "./verify.js";
import { genoaSample, milanSample } from "./test-vectors.js";

const genoa = genoaSample();
const milan = milanSample();
const when = new Date("2026-07-01T00:00:00Z");
const codes = (v: { errors: readonly { code: string }[] }): string[] => v.errors.map((e) => e.code);

describe.skipIf(!genoa)(`SEV-SNP report, genuine Genoa sample${genoa ? "" : " (skipped: ../shared missing)"}`, () => {
  const g = genoa as NonNullable<typeof genoa>;

  it("verifies: VCEK -> ASK -> ARK-Genoa, ECDSA signature, TCB and chip binding, policy", () => {
    const v = verifySnpReport(g.report, { vcekPem: g.chainPem, now: when });
    expect(v.errors).toEqual([]);
    expect(v.verified).toBe(true);
    expect(v.tee).toBe("sev-snp");
    expect(v.simulated).toBe(false);
    expect(v.tcbStatus).toBeNull();
    expect(v.product).toBe("Genoa");
    expect(v.measurements["measurement"]).toBe("09ef32acf90fcfeb6206d1a46c13145cef736ebbb83f18eaff680b686232031546ff5fd39c44599699ee8734cbbeb519");
    expect(v.report?.policy.raw).toBe(0x30000n);
    expect(v.tcb).toMatchObject({ bootloader: 10, tee: 0, snp: 23, microcode: 84 });
    expect(v.reportData).toMatch(/^[0-9a-f]{128}$/);
  });

  it("rejects a flipped byte in the measurement with REPORT_SIGNATURE_INVALID", () => {
    const bad = g.report.slice();
    bad[0x90] = (bad[0x90] ?? 0) ^ 0x01;
    expect(codes(verifySnpReport(bad, { vcekPem: g.chainPem, now: when }))).toEqual(["REPORT_SIGNATURE_INVALID"]);
  });

  it("rejects a flipped byte in the signature with REPORT_SIGNATURE_INVALID", () => {
    const bad = g.report.slice();
    bad[0x2a0 + 5] = (bad[0x2a0 + 5] ?? 0) ^ 0x01;
    expect(codes(verifySnpReport(bad, { vcekPem: g.chainPem, now: when }))).toEqual(["REPORT_SIGNATURE_INVALID"]);
  });

  it("reports DEBUG_ENABLED on its own check when policy bit 19 is set", () => {
    const bad = g.report.slice();
    bad[0x08 + 2] = (bad[0x08 + 2] ?? 0) | 0x08; // bit 19 = byte 2, bit 3
    const v = verifySnpReport(bad, { vcekPem: g.chainPem, now: when });
    expect(codes(v)).toContain("DEBUG_ENABLED");
    expect(codes(v)).toContain("REPORT_SIGNATURE_INVALID");
    expect(v.checks.find((c) => c.code === "DEBUG_ENABLED")?.name).toBe("guest policy: debug disabled");
  });

  it("passes the VMPL and migration-agent checks for the genuine report (VMPL 0, MIGRATE_MA clear)", () => {
    const v = verifySnpReport(g.report, { vcekPem: g.chainPem, now: when });
    expect(v.report?.vmpl).toBe(0);
    expect(v.checks.find((c) => c.name === "VMPL")).toMatchObject({ ok: true });
    expect(v.checks.find((c) => c.name === "guest policy: no migration agent")).toMatchObject({ ok: true });
  });

  it("reports SNP_VMPL_NOT_ALLOWED for a report requested from VMPL 1, unless maxVmpl allows it", () => {
    const bad = g.report.slice();
    bad[0x30] = 1; // VMPL, u32 LE at 0x30 (ABI 56860 Table 22)
    const strict = verifySnpReport(bad, { vcekPem: g.chainPem, now: when });
    expect(codes(strict)).toContain("SNP_VMPL_NOT_ALLOWED");
    expect(strict.checks.find((c) => c.code === "SNP_VMPL_NOT_ALLOWED")?.name).toBe("VMPL");
    const svsm = verifySnpReport(bad, { vcekPem: g.chainPem, now: when, maxVmpl: 1 });
    expect(codes(svsm)).toEqual(["REPORT_SIGNATURE_INVALID"]); // the byte flip, nothing else
    expect(svsm.checks.find((c) => c.name === "VMPL")).toMatchObject({ ok: true });
    expect(codes(verifySnpReport(bad, { vcekPem: g.chainPem, now: when, maxVmpl: 0 }))).toContain("SNP_VMPL_NOT_ALLOWED");
  });

  it("refuses a maxVmpl outside 0..3 as a caller error (POLICY_INVALID)", () => {
    expect(() => verifySnpReport(g.report, { vcekPem: g.chainPem, now: when, maxVmpl: 4 })).toThrow(expect.objectContaining({ code: "POLICY_INVALID" }));
    expect(() => verifySnpReport(g.report, { vcekPem: g.chainPem, now: when, maxVmpl: 0.5 })).toThrow(expect.objectContaining({ code: "POLICY_INVALID" }));
  });

  it("reports SNP_POLICY_INVALID when policy bit 18 (MIGRATE_MA) is set, unless allowMigrationAgent", () => {
    const bad = g.report.slice();
    bad[0x08 + 2] = (bad[0x08 + 2] ?? 0) | 0x04; // bit 18 = byte 2, bit 2
    const strict = verifySnpReport(bad, { vcekPem: g.chainPem, now: when });
    expect(strict.report?.policy.migrateMa).toBe(true);
    expect(codes(strict)).toContain("SNP_POLICY_INVALID");
    expect(strict.checks.find((c) => c.code === "SNP_POLICY_INVALID")?.name).toBe("guest policy: no migration agent");
    expect(codes(verifySnpReport(bad, { vcekPem: g.chainPem, now: when, allowMigrationAgent: true }))).toEqual(["REPORT_SIGNATURE_INVALID"]);
  });

  it("reports FOREIGN_ROOT for a chain that verifies but ends at a non-AMD root", () => {
    const nvidiaChain = sharedPath("vectors", "nvidia-spdm", "hopperCertChain.txt");
    const chain = nvidiaChain ? readFileSync(nvidiaChain, "utf8") : "";
    expect(codes(verifySnpReport(g.report, { certChainPem: chain, now: when }))).toContain("FOREIGN_ROOT");
  });

  it("reports CERT_CHAIN_INVALID when the supplied ASK's signature was corrupted", () => {
    const ask = new X509Certificate(AMD_SNP_ROOTS[1]?.askPem ?? "").raw;
    ask[ask.length - 3] = (ask[ask.length - 3] ?? 0) ^ 0x01;
    const chain = g.chainPem + new X509Certificate(ask).toString();
    expect(codes(verifySnpReport(g.report, { certChainPem: chain, now: when }))[0]).toBe("CERT_CHAIN_INVALID");
  });

  it("reports CERT_CHAIN_INVALID when told the wrong product", () => {
    expect(codes(verifySnpReport(g.report, { vcekPem: g.chainPem, product: "Milan", now: when }))[0]).toBe("CERT_CHAIN_INVALID");
  });

  it("reports CERT_EXPIRED after the VCEK expired", () => {
    expect(codes(verifySnpReport(g.report, { vcekPem: g.chainPem, now: new Date("2034-01-01T00:00:00Z") }))).toEqual(["CERT_EXPIRED"]);
  });

  it("reports CRL_INVALID for a CRL that is not AMD's", () => {
    const v = verifySnpReport(g.report, { vcekPem: g.chainPem, now: when, crlDer: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]) });
    expect(codes(v)).toEqual(["CRL_INVALID"]);
  });

  it("reports QUOTE_MALFORMED for a truncated report", () => {
    expect(codes(verifySnpReport(g.report.subarray(0, 1000), { vcekPem: g.chainPem }))).toEqual(["QUOTE_MALFORMED"]);
  });
});

describe.skipIf(!genoa || !milan)(`SEV-SNP report, genuine Milan sample (dstack)${genoa && milan ? "" : " (skipped: ../shared missing)"}`, () => {
  const m = milan as NonNullable<typeof milan>;
  const g = genoa as NonNullable<typeof genoa>;

  it("verifies with the VCEK and ASK from the fixture, to ARK-Milan", () => {
    const v = verifySnpReport(m.report, { certChainPem: m.chainPem, now: when });
    expect(v.errors).toEqual([]);
    expect(v.product).toBe("Milan");
    expect(v.tcb).toMatchObject({ bootloader: 4, tee: 0, snp: 23, microcode: 213 });
  });

  it("reports VCEK_MISMATCH (and a bad signature) for another chip's genuine VCEK", () => {
    const v = verifySnpReport(g.report, { certChainPem: m.chainPem, now: when });
    expect(codes(v)).toContain("VCEK_MISMATCH");
    expect(codes(v)).toContain("REPORT_SIGNATURE_INVALID");
    expect(v.checks.find((c) => c.name === "VCEK certificate chain")?.ok).toBe(true);
  });
});
