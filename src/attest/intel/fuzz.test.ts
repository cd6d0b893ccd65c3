/**
 * Fuzzing the parser and the offline verifier with fast-check: whatever the bytes, they
 * return, or throw an AttestationError; never another exception (no RangeError from a
 * bad offset, no TypeError from a half-read structure).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AttestationError } from "../../errors.js";
import { parseQuote } from "./parse-quote.js";
import { INTEL_DIR, intelCollateral, intelFile } from "./test-vectors.js";
import { verifyDcapQuote } from "./verify-dcap.js";
import { verifyQuoteSignatures } from "./verify-signatures.js";

const now = new Date("2025-07-01T00:00:00Z");

/** True when fn returns or throws an AttestationError; rethrows anything else. */
function onlyAttestationErrors(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (e instanceof AttestationError) return true;
    throw e;
  }
}

/** A plausible header (v3/v4/v5, ECDSA, SGX/TDX) followed by random bytes: reaches deeper code. */
const headerish = fc
  .tuple(fc.constantFrom(3, 4, 5), fc.constantFrom(0, 0x81), fc.uint8Array({ minLength: 0, maxLength: 3000 }))
  .map(([version, tee, rest]) => {
    const b = new Uint8Array(48 + rest.length);
    b[0] = version;
    b[2] = 2;
    b[4] = tee;
    b.set(rest, 48);
    return b;
  });

describe("fuzzing parseQuote and verifyQuoteSignatures with random bytes", () => {
  it("parseQuote only ever returns or throws AttestationError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 6000 }), headerish), (bytes) => onlyAttestationErrors(() => parseQuote(bytes))),
      { numRuns: 2000 },
    );
  });

  it("verifyQuoteSignatures never throws and never verifies random bytes", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), headerish), (bytes) => {
        const v = verifyQuoteSignatures(bytes, { now });
        expect(v.verified).toBe(false);
        expect(v.errors.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });
});

describe.skipIf(!INTEL_DIR)(`fuzzing with mutations of genuine quotes${INTEL_DIR ? "" : " (skipped: ../shared missing)"}`, () => {
  const quotes = INTEL_DIR ? [intelFile("tdx_quote"), intelFile("sgx_quote"), intelFile("tdx_quote_outdated")] : [];
  /** Everything before the PEM chain is covered by a signature or hash (PEM whitespace is not). */
  const signedExtent = (q: Uint8Array): number => new TextDecoder("latin1").decode(q).indexOf("-----BEGIN CERTIFICATE-----");

  const mutation = fc.record({
    which: fc.nat({ max: 2 }),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
  });

  it("a mutated byte anywhere is either harmless padding or rejected, never another exception", () => {
    fc.assert(
      fc.property(mutation, ({ which, edits }) => {
        const base = quotes[which] as Uint8Array;
        const q = Uint8Array.from(base);
        for (const [pos, x] of edits) q[pos % q.length] = (q[pos % q.length] ?? 0) ^ x;
        expect(onlyAttestationErrors(() => parseQuote(q))).toBe(true);
        const v = verifyQuoteSignatures(q, { now: which === 2 ? new Date("2026-03-01T00:00:00Z") : now });
        const touchedSigned = edits.some(([pos]) => pos % q.length < signedExtent(base));
        if (touchedSigned) expect(v.verified).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it("verifyDcapQuote never throws on mutated quotes and never verifies a changed signed byte", () => {
    const collateral = intelCollateral("tdx_quote_collateral.json");
    const base = quotes[0] as Uint8Array;
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (pos, x) => {
        const q = Uint8Array.from(base);
        const at = pos % signedExtent(base);
        q[at] = (q[at] ?? 0) ^ x;
        const v = verifyDcapQuote(q, { collateral, now });
        expect(v.verified).toBe(false);
        expect(v.tcbStatus).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it("every truncation is QUOTE_MALFORMED or harmless padding", () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 }), fc.nat(), (which, n) => {
        const base = quotes[which] as Uint8Array;
        const cut = base.subarray(0, n % base.length);
        const end = base.length - parseQuote(base).trailingBytes;
        if (cut.length < end) {
          expect(() => parseQuote(cut)).toThrow(AttestationError);
          const v = verifyQuoteSignatures(cut, { now });
          expect(v.errors[0]?.code).toBe("QUOTE_MALFORMED");
        } else {
          expect(parseQuote(cut).signedBytes.length).toBe(parseQuote(base).signedBytes.length);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
