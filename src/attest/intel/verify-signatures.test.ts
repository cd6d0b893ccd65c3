import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sharedPath } from "../../util/shared.js";
import { INTEL_SGX_ROOT_CA_PEM } from "./intel-root.js";
import { flipBase64, quoteParts } from "./tamper-offsets.js";
import { CASES, GOOGLE_DIR, INTEL_DIR, flip, googleFile, intelFile } from "./test-vectors.js";
import { verifyQuoteSignatures } from "./verify-signatures.js";

const at = new Date("2025-07-01T00:00:00Z");
const firstCode = (v: { errors: readonly { code: string }[] }): string | undefined => v.errors[0]?.code;

describe("verifyQuoteSignatures on non-quotes", () => {
  it("returns a failed verification (not a throw) for bytes that are not a quote", () => {
    const v = verifyQuoteSignatures(new Uint8Array([1, 2, 3]), { now: at });
    expect(v.verified).toBe(false);
    expect(firstCode(v)).toBe("QUOTE_MALFORMED");
    expect(v.measurements).toEqual({});
  });
});

describe.skipIf(!INTEL_DIR)(`verifyQuoteSignatures on genuine quotes${INTEL_DIR ? "" : " (skipped: ../shared missing)"}`, () => {
  it("verifies the TDX and SGX quotes offline, with TCB status left to collateral", () => {
    for (const c of [CASES.tdx, CASES.sgx]) {
      const v = verifyQuoteSignatures(intelFile(c.quote), { now: c.now });
      expect(v.errors).toEqual([]);
      expect(v.verified).toBe(true);
      expect(v.simulated).toBe(false);
      expect(v.tcbStatus).toBeNull();
      const tcb = v.checks.find((x) => x.name === "TCB status");
      expect(tcb?.skipped).toBe(true);
      expect(tcb?.detail).toMatch(/collateral/);
    }
    expect(verifyQuoteSignatures(intelFile("tdx_quote"), { now: at }).tee).toBe("tdx");
    expect(verifyQuoteSignatures(intelFile("sgx_quote"), { now: at }).tee).toBe("sgx");
  });

  it("verifies the NEAR, dstack and v5 quotes at times their PCK certificates are valid", () => {
    for (const f of ["near_quote_hex.txt", "tdx-quote.hex", "quote-from-tappd.hex"]) {
      expect(verifyQuoteSignatures(intelFile(f), { now: new Date("2025-09-15T00:00:00Z") }).errors).toEqual([]);
    }
    expect(verifyQuoteSignatures(intelFile("tdx_quote_outdated"), { now: CASES.outdated.now }).verified).toBe(true);
  });

  it("accepts Intel's root passed explicitly as the trusted root", () => {
    expect(verifyQuoteSignatures(intelFile("tdx_quote"), { now: at, trustedRootsPem: [INTEL_SGX_ROOT_CA_PEM] }).verified).toBe(true);
  });

  it("rejects a PCK certificate that is not yet valid as CERT_EXPIRED", () => {
    const v = verifyQuoteSignatures(intelFile("near_quote_hex.txt"), { now: at });
    expect(firstCode(v)).toBe("CERT_EXPIRED");
  });

  const tampered: [keyof ReturnType<typeof quoteParts>, string][] = [
    ["header", "QUOTE_SIGNATURE_INVALID"],
    ["body", "QUOTE_SIGNATURE_INVALID"],
    ["signature", "QUOTE_SIGNATURE_INVALID"],
    ["attestationKey", "QE_REPORT_INVALID"],
    ["qeReport", "QE_REPORT_INVALID"],
    ["qeReportSignature", "QE_REPORT_INVALID"],
  ];
  for (const kind of ["tdx_quote", "sgx_quote"]) {
    for (const [part, code] of tampered) {
      it(`rejects a ${kind} with a flipped byte in the ${part} as ${code}`, () => {
        const q = intelFile(kind);
        const v = verifyQuoteSignatures(flip(q, quoteParts(q)[part]), { now: at });
        expect(v.verified).toBe(false);
        expect(firstCode(v)).toBe(code);
      });
    }
    it(`rejects a ${kind} with a changed PCK certificate as CERT_CHAIN_INVALID`, () => {
      const q = intelFile(kind);
      const v = verifyQuoteSignatures(flipBase64(q, quoteParts(q).pckLeaf), { now: at });
      expect(v.verified).toBe(false);
      expect(firstCode(v)).toBe("CERT_CHAIN_INVALID");
    });
  }

  it("reports the attestation key swap also as a bad quote signature", () => {
    const q = intelFile("tdx_quote");
    const v = verifyQuoteSignatures(flip(q, quoteParts(q).attestationKey), { now: at });
    expect(v.errors.map((e) => e.code)).toContain("QUOTE_SIGNATURE_INVALID");
  });

  const otherRoot = sharedPath("vectors", "nvidia-spdm", "verifier_device_root.pem");
  it.skipIf(!otherRoot)(`rejects a genuine Intel quote when only another root is trusted, as FOREIGN_ROOT${otherRoot ? "" : " (skipped: ../shared/vectors/nvidia-spdm missing)"}`, () => {
    const pem = readFileSync(otherRoot as string, "utf8");
    const v = verifyQuoteSignatures(intelFile("tdx_quote"), { now: at, trustedRootsPem: [pem] });
    expect(v.verified).toBe(false);
    expect(firstCode(v)).toBe("FOREIGN_ROOT");
    // The rest of the quote still checks out: only the anchor is refused.
    expect(v.errors).toHaveLength(1);
  });
});

describe.skipIf(!GOOGLE_DIR)(`verifyQuoteSignatures on google/go-tdx-guest quotes${GOOGLE_DIR ? "" : " (skipped: ../shared missing)"}`, () => {
  it("verifies the production SPR quote and the v5 sample offline", () => {
    expect(verifyQuoteSignatures(googleFile("tdx_prod_quote_SPR_E4.dat"), { now: new Date(1688083200_000) }).errors).toEqual([]);
    expect(verifyQuoteSignatures(googleFile("quote_v5_sample.dat"), { now: new Date("2026-03-01T00:00:00Z") }).errors).toEqual([]);
  });
});
