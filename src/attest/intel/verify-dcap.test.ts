import { describe, expect, it } from "vitest";
import { utf8 } from "../../util/bytes.js";
import type { Collateral } from "./collateral.js";
import { flipBase64, quoteParts } from "./tamper-offsets.js";
import { CASES, INTEL_DIR, flip, flipHex, intelCollateral, intelFile } from "./test-vectors.js";
import { verifyDcapQuote } from "./verify-dcap.js";

const skipMsg = INTEL_DIR ? "" : " (skipped: ../shared missing)";
const firstCode = (v: { errors: readonly { code: string }[] }): string | undefined => v.errors[0]?.code;

describe.skipIf(!INTEL_DIR)(`verifyDcapQuote on genuine quotes and collateral${skipMsg}`, () => {
  it("verifies the TDX v4 quote as UpToDate with no advisories and RTMR3 all zeros", () => {
    const v = verifyDcapQuote(intelFile(CASES.tdx.quote), { collateral: intelCollateral(CASES.tdx.collateral), now: CASES.tdx.now });
    expect(v.errors).toEqual([]);
    expect(v.verified).toBe(true);
    expect(v.tee).toBe("tdx");
    expect(v.tcbStatus).toBe("UpToDate");
    expect(v.advisories).toEqual([]);
    expect(v.measurements["rtmr3"]).toBe("00".repeat(48));
    expect(v.checks.every((c) => c.ok)).toBe(true);
  });

  it("verifies the SGX quote as ConfigurationAndSWHardeningNeeded with its two advisories", () => {
    const v = verifyDcapQuote(intelFile(CASES.sgx.quote), { collateral: intelCollateral(CASES.sgx.collateral), now: CASES.sgx.now });
    expect(v.verified).toBe(true);
    expect(v.tee).toBe("sgx");
    expect(v.tcbStatus).toBe("ConfigurationAndSWHardeningNeeded");
    expect([...v.advisories].sort()).toEqual(["INTEL-SA-00289", "INTEL-SA-00615"]);
    expect(utf8.decode(Buffer.from((v.reportData ?? "").slice(0, 26), "hex"))).toBe("Hello, world!");
  });

  it("verifies the NEAR deployment's quote as UpToDate", () => {
    const v = verifyDcapQuote(intelFile(CASES.near.quote), { collateral: intelCollateral(CASES.near.collateral), now: CASES.near.now });
    expect(v.errors).toEqual([]);
    expect(v.tcbStatus).toBe("UpToDate");
  });

  it("rejects the outdated v5 TD 1.5 quote: no TCB level matches", () => {
    const v = verifyDcapQuote(intelFile(CASES.outdated.quote), {
      collateral: intelCollateral(CASES.outdated.collateral),
      now: CASES.outdated.now,
    });
    expect(v.verified).toBe(false);
    expect(firstCode(v)).toBe("TCB_LEVEL_NOT_FOUND");
    expect(v.tcbStatus).toBeNull();
  });

  it("rejects collateral that belongs to another platform", () => {
    const v = verifyDcapQuote(intelFile(CASES.tdx.quote), { collateral: intelCollateral(CASES.near.collateral), now: CASES.near.now });
    expect(v.verified).toBe(false);
    expect(v.errors.map((e) => e.code)).toContain("COLLATERAL_INVALID");
  });
});

describe.skipIf(!INTEL_DIR)(`verifyDcapQuote rejects tampering, each with its own code${skipMsg}`, () => {
  const run = (q: Uint8Array, col: Collateral, now = CASES.tdx.now) => verifyDcapQuote(q, { collateral: col, now });
  const tdx = (): Uint8Array => intelFile(CASES.tdx.quote);
  const col = (): Collateral => intelCollateral(CASES.tdx.collateral);

  const quoteTampering: [keyof ReturnType<typeof quoteParts>, string][] = [
    ["header", "QUOTE_SIGNATURE_INVALID"],
    ["body", "QUOTE_SIGNATURE_INVALID"],
    ["signature", "QUOTE_SIGNATURE_INVALID"],
    ["attestationKey", "QE_REPORT_INVALID"],
    ["qeReport", "QE_REPORT_INVALID"],
    ["qeReportSignature", "QE_REPORT_INVALID"],
  ];
  for (const [part, code] of quoteTampering) {
    it(`rejects a quote with a flipped byte in the ${part} as ${code}`, () => {
      const q = tdx();
      const v = run(flip(q, quoteParts(q)[part]), col());
      expect(v.verified).toBe(false);
      expect(v.tcbStatus).toBeNull();
      expect(firstCode(v)).toBe(code);
    });
  }

  it("rejects a quote with a changed PCK certificate as CERT_CHAIN_INVALID", () => {
    const q = tdx();
    expect(firstCode(run(flipBase64(q, quoteParts(q).pckLeaf), col()))).toBe("CERT_CHAIN_INVALID");
  });

  it("rejects a corrupted PCK CRL signature as CRL_INVALID", () => {
    const c = col();
    const v = run(tdx(), { ...c, pck_crl: flipHex(c.pck_crl, c.pck_crl.length - 10) });
    expect(firstCode(v)).toBe("CRL_INVALID");
  });

  it("rejects a corrupted root CA CRL as CRL_INVALID", () => {
    const c = col();
    expect(firstCode(run(tdx(), { ...c, root_ca_crl: flipHex(c.root_ca_crl, 200) }))).toBe("CRL_INVALID");
  });

  it("rejects a PCK CRL that is not a CRL as CRL_INVALID", () => {
    expect(firstCode(run(tdx(), { ...col(), pck_crl: "3003020100" }))).toBe("CRL_INVALID");
  });

  it("rejects a quote whose PCK CRL is stale (now past its nextUpdate) as CRL_STALE", () => {
    // PCK CRL nextUpdate 2025-07-19T10:00:35Z; TCB Info and QE Identity last until 10:16 and 10:32.
    const v = run(tdx(), col(), new Date("2025-07-19T10:05:00Z"));
    expect(v.verified).toBe(false);
    expect(firstCode(v)).toBe("CRL_STALE");
    expect(v.errors).toHaveLength(1);
  });

  it("rejects expired collateral as COLLATERAL_EXPIRED", () => {
    const v = run(tdx(), col(), new Date("2025-08-01T00:00:00Z"));
    expect(firstCode(v)).toBe("COLLATERAL_EXPIRED");
  });

  it("rejects collateral that is not yet valid as COLLATERAL_NOT_YET_VALID", () => {
    // TCB Info issued 2025-06-19T10:16:03Z; the PCK CRL from 10:00:35 is already current.
    const v = run(tdx(), col(), new Date("2025-06-19T10:10:00Z"));
    expect(firstCode(v)).toBe("COLLATERAL_NOT_YET_VALID");
    expect(v.errors.map((e) => e.code)).not.toContain("CRL_STALE");
  });

  it("rejects a TCB Info whose text was changed as COLLATERAL_SIGNATURE_INVALID", () => {
    const c = col();
    const v = run(tdx(), { ...c, tcb_info: c.tcb_info.replace('"tcbEvaluationDataNumber":17', '"tcbEvaluationDataNumber":18') });
    expect(firstCode(v)).toBe("COLLATERAL_SIGNATURE_INVALID");
  });

  it("rejects a flipped TCB Info or QE Identity signature as COLLATERAL_SIGNATURE_INVALID", () => {
    const c = col();
    expect(firstCode(run(tdx(), { ...c, tcb_info_signature: flipHex(c.tcb_info_signature, 3) }))).toBe("COLLATERAL_SIGNATURE_INVALID");
    expect(firstCode(run(tdx(), { ...c, qe_identity_signature: flipHex(c.qe_identity_signature, 3) }))).toBe("COLLATERAL_SIGNATURE_INVALID");
  });

  it("rejects collateral that is not DCAP JSON as COLLATERAL_INVALID", () => {
    const bad = { ...col(), pck_crl: "not hex" };
    expect(firstCode(run(tdx(), bad))).toBe("COLLATERAL_INVALID");
  });
});
