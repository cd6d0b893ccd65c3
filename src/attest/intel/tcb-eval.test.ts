import type { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePemChain } from "./certs.js";
import type { Collateral } from "./collateral.js";
import { qvlVerify } from "./dcap-wasm.js";
import { parseQuote } from "./parse-quote.js";
import { pckExtensions } from "./pck-extensions.js";
import type { ParsedQuote } from "./quote-types.js";
import { topLevelRaw } from "./raw-json.js";
import { parseSignedJson, QeIdentitySchema, TcbInfoSchema, type QeIdentity, type TcbInfo } from "./signed-collateral.js";
import { converge, evaluateTcb, relaunch } from "./tcb-eval.js";
import { CASES, GOOGLE_DIR, INTEL_DIR, flip, googleFile, intelCollateral, intelFile } from "./test-vectors.js";
import { verifyDcapQuote } from "./verify-dcap.js";

const skipMsg = INTEL_DIR && GOOGLE_DIR ? "" : " (skipped: ../shared missing)";
const secs = (d: Date): number => d.getTime() / 1000;

function inputs(quote: Uint8Array, col: Collateral): { q: ParsedQuote; info: TcbInfo; qe: QeIdentity; pck: ReturnType<typeof pckExtensions> } {
  const q = parseQuote(quote);
  const leaf = parsePemChain(q.signatureData.certification.pckChainPem, "PCK chain")[0] as X509Certificate;
  return { q, pck: pckExtensions(leaf), info: parseSignedJson(TcbInfoSchema, col.tcb_info, "TCB Info"), qe: parseSignedJson(QeIdentitySchema, col.qe_identity, "QE Identity") };
}

/** Google's v5 TD 1.5 sample with its TCB Info v5 (FMSPC 90C06F, issued 2026-02-01) and Intel's
 * generic 2026 QE Identity and CRLs from dcap-qvl's collateral: all valid at 2026-03-01. */
function v5Collateral(): Collateral {
  const body = readFileSync(join(GOOGLE_DIR ?? "", "sample_tcbinfo_response_v5"), "utf8");
  const { signature } = JSON.parse(body) as { signature: string };
  return { ...intelCollateral(CASES.outdated.collateral), tcb_info: topLevelRaw(body, "tcbInfo"), tcb_info_signature: signature };
}
const V5_NOW = new Date("2026-03-01T00:00:00Z");

describe.skipIf(!INTEL_DIR || !GOOGLE_DIR)(`own TCB evaluation on genuine quotes${skipMsg}`, () => {
  it("agrees with dcap-qvl on every vector dcap-qvl can decode (status and advisories)", () => {
    for (const c of [CASES.tdx, CASES.sgx, CASES.near]) {
      const quote = intelFile(c.quote);
      const col = intelCollateral(c.collateral);
      const { q, info, qe, pck } = inputs(quote, col);
      const ours = evaluateTcb(info, qe, pck, q);
      const lib = qvlVerify(quote, col, secs(c.now));
      if ("error" in lib) throw new Error(`dcap-qvl refused ${c.quote}: ${lib.error}`);
      expect({ q: c.quote, status: ours.status, adv: [...ours.advisoryIds].sort() }).toEqual({ q: c.quote, status: lib.status, adv: [...lib.advisoryIds].sort() });
      const v = verifyDcapQuote(quote, { collateral: col, now: c.now });
      expect(v.checks.find((k) => k.name === "TCB cross-check")?.ok).toBe(true);
    }
  });

  it("rates the TDX module through its identity TDX_01 (TEE_TCB_SVN major 1, minor 6)", () => {
    const { q, info, qe, pck } = inputs(intelFile(CASES.tdx.quote), intelCollateral(CASES.tdx.collateral));
    const e = evaluateTcb(info, qe, pck, q);
    expect(e.tdxModule?.status).toBe("UpToDate");
    expect(e.current).toBeNull();
  });

  it("rejects the outdated v5 TD 1.5 quote by its own evaluation: no TCB level matches (not 'version unsupported')", () => {
    const v = verifyDcapQuote(intelFile(CASES.outdated.quote), { collateral: intelCollateral(CASES.outdated.collateral), now: CASES.outdated.now });
    expect(v.verified).toBe(false);
    expect(v.errors.map((e) => e.code)).toEqual(["TCB_LEVEL_NOT_FOUND"]);
    const level = v.checks.find((c) => c.name === "TCB level (own evaluation)");
    expect(level?.ok).toBe(false);
    expect(level?.detail).toContain("TEE_TCB_SVN 07010300000000000000000000000000");
  });

  it("fully verifies google's v5 TD 1.5 sample with its TCB Info v5: UpToDate by our own evaluation", () => {
    const v = verifyDcapQuote(googleFile("quote_v5_sample.dat"), { collateral: v5Collateral(), now: V5_NOW });
    expect(v.errors).toEqual([]);
    expect(v.verified).toBe(true);
    expect(v.tcbStatus).toBe("UpToDate");
    expect(v.measurements["mrservicetd"]).toBeDefined();
    const lib = v.checks.find((c) => c.name === "dcap-qvl verification");
    expect(lib?.skipped).toBe(true);
    expect(lib?.detail).toContain("TD 1.5");
    expect(v.checks.find((c) => c.name === "TCB level (own evaluation)")?.detail).toContain("running module UpToDate");
  });

  it("rejects the v5 sample when TEE_TCB_SVN2 (signed) is changed", () => {
    const quote = googleFile("quote_v5_sample.dat");
    const q = parseQuote(quote);
    const off = q.body.raw.byteOffset - quote.byteOffset + 584; // TD 1.5: TEE_TCB_SVN2 follows the 584-byte TD 1.0 body
    const v = verifyDcapQuote(flip(quote, off), { collateral: v5Collateral(), now: V5_NOW });
    expect(v.verified).toBe(false);
    expect(v.errors.map((e) => e.code)).toContain("QUOTE_SIGNATURE_INVALID");
  });

  it("rejects the v5 sample at 2026-03-04: its TCB Info expired", () => {
    const v = verifyDcapQuote(googleFile("quote_v5_sample.dat"), { collateral: v5Collateral(), now: new Date("2026-03-04T00:00:00Z") });
    expect(v.errors[0]?.code).toBe("COLLATERAL_EXPIRED");
  });
});

describe.skipIf(!INTEL_DIR)(`TCB evaluation rules (TCB Info v3 for TDX, TD 1.5)${skipMsg}`, () => {
  // The outdated TD 1.5 quote: TEE_TCB_SVN 07 01 03, TEE_TCB_SVN2 0d 01 03, QE ISVSVN 7.
  const base = (): ReturnType<typeof inputs> => inputs(intelFile(CASES.outdated.quote), intelCollateral(CASES.outdated.collateral));
  const svns = (xs: number[]): { svn: number }[] => Array.from({ length: 16 }, (_, i) => ({ svn: xs[i] ?? 0 }));
  const ZERO48 = "0".repeat(96);
  const level = (tdx: number[], status = "UpToDate", advisoryIDs?: string[]): TcbInfo["tcbLevels"][number] => ({
    tcb: { sgxtcbcomponents: svns([]), pcesvn: 0, tdxtcbcomponents: svns(tdx) },
    tcbDate: "2024-01-01T00:00:00Z",
    tcbStatus: status,
    ...(advisoryIDs ? { advisoryIDs } : {}),
  });
  const module = (levels: [number, string, string[]?][], id = "TDX_01"): NonNullable<TcbInfo["tdxModuleIdentities"]>[number] => ({
    id,
    mrsigner: ZERO48,
    attributes: "0000000000000000",
    attributesMask: "FFFFFFFFFFFFFFFF",
    tcbLevels: levels.map(([isvsvn, tcbStatus, advisoryIDs]) => ({ tcb: { isvsvn }, tcbStatus, ...(advisoryIDs ? { advisoryIDs } : {}) })),
  });

  it("advises a TD relaunch when the TD launched under an out-of-date module and the running one is current", () => {
    const { q, info, qe, pck } = base();
    const t: TcbInfo = { ...info, tcbLevels: [level([0, 0, 3])], tdxModuleIdentities: [module([[13, "UpToDate"], [2, "OutOfDate", ["INTEL-SA-X"]]])] };
    const e = evaluateTcb(t, qe, pck, q);
    expect(e.status).toBe("TDRelaunchAdvised");
    expect(e.current?.status).toBe("UpToDate");
    expect(e.advisoryIds).toEqual(["INTEL-SA-X"]);
  });

  it("ignores TDX components 0 and 1 when the module major version is above 0 (the module identity rates them)", () => {
    const { q, info, qe, pck } = base();
    const t: TcbInfo = { ...info, tcbLevels: [level([99, 99, 3])], tdxModuleIdentities: [module([[0, "UpToDate"]])] };
    expect(evaluateTcb(t, qe, pck, q).status).toBe("UpToDate");
    const higher: TcbInfo = { ...t, tcbLevels: [level([0, 0, 4])] };
    expect(() => evaluateTcb(higher, qe, pck, q)).toThrow(expect.objectContaining({ code: "TCB_LEVEL_NOT_FOUND" }));
  });

  it("refuses a TDX module with no identity in TCB Info, or with another signer", () => {
    const { q, info, qe, pck } = base();
    const noId: TcbInfo = { ...info, tcbLevels: [level([0, 0, 3])], tdxModuleIdentities: [module([[0, "UpToDate"]], "TDX_03")] };
    expect(() => evaluateTcb(noId, qe, pck, q)).toThrow(expect.objectContaining({ code: "TDX_MODULE_MISMATCH" }));
    const other: TcbInfo = { ...noId, tdxModuleIdentities: [{ ...module([[0, "UpToDate"]]), mrsigner: "11".repeat(48) }] };
    expect(() => evaluateTcb(other, qe, pck, q)).toThrow(expect.objectContaining({ code: "TDX_MODULE_MISMATCH" }));
  });

  it("a revoked QE or module makes the whole platform Revoked; an out-of-date one OutOfDate", () => {
    const { q, info, qe, pck } = base();
    const t: TcbInfo = { ...info, tcbLevels: [level([0, 0, 3])], tdxModuleIdentities: [module([[0, "UpToDate"]])] };
    const revokedQe: QeIdentity = { ...qe, tcbLevels: [{ tcb: { isvsvn: 0 }, tcbStatus: "Revoked" }] };
    expect(evaluateTcb(t, revokedQe, pck, q).status).toBe("Revoked");
  });

  it("a QE below every QE Identity level is refused", () => {
    const { q, info, qe, pck } = base();
    const t: TcbInfo = { ...info, tcbLevels: [level([0, 0, 3])], tdxModuleIdentities: [module([[0, "UpToDate"]])] };
    const high: QeIdentity = { ...qe, tcbLevels: [{ tcb: { isvsvn: 200 }, tcbStatus: "UpToDate" }] };
    expect(() => evaluateTcb(t, high, pck, q)).toThrow(expect.objectContaining({ code: "QE_IDENTITY_MISMATCH" }));
  });
});

describe("status convergence and TD relaunch (Intel QVL rules, no vectors needed)", () => {
  it("an OutOfDate component turns UpToDate into OutOfDate and ConfigurationNeeded into OutOfDateConfigurationNeeded; Revoked wins", () => {
    const s = (status: string, advisoryIds: string[] = []): { status: string; advisoryIds: string[] } => ({ status, advisoryIds });
    expect(converge(s("UpToDate"), [s("OutOfDate")]).status).toBe("OutOfDate");
    expect(converge(s("ConfigurationNeeded", ["A"]), [s("OutOfDate", ["B"])])).toEqual({ status: "OutOfDateConfigurationNeeded", advisoryIds: ["A", "B"] });
    expect(converge(s("SWHardeningNeeded"), [s("UpToDate"), s("Revoked")]).status).toBe("Revoked");
    expect(converge(s("ConfigurationAndSWHardeningNeeded"), [s("UpToDate")]).status).toBe("ConfigurationAndSWHardeningNeeded");
  });

  it("advises a relaunch only when launched out of date and running up to date", () => {
    expect(relaunch("OutOfDate", "UpToDate")).toBe("TDRelaunchAdvised");
    expect(relaunch("OutOfDateConfigurationNeeded", "UpToDate")).toBe("TDRelaunchAdvisedConfigurationNeeded");
    expect(relaunch("OutOfDate", "ConfigurationNeeded")).toBe("TDRelaunchAdvisedConfigurationNeeded");
    expect(relaunch("OutOfDate", "OutOfDate")).toBe("OutOfDate");
    expect(relaunch("UpToDate", "OutOfDate")).toBe("UpToDate");
  });
});
