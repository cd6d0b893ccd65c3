import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AttestationError } from "../../errors.js";
import { parseCrl } from "./crl.js";
import { certParts, readTlv } from "./der.js";
import { parseSnpReport, SNP_REPORT_SIZE } from "./report.js";
import { verifySnpReport } from "./verify.js";
import { genoaSample } from "./test-vectors.js";

const RUNS = 2000;

function onlyAttestationErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
  }
}

describe("SNP parsers under random input", () => {
  it("parseSnpReport throws nothing but AttestationError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 1300 }), fc.uint8Array({ minLength: SNP_REPORT_SIZE, maxLength: SNP_REPORT_SIZE })), (b) =>
        onlyAttestationErrors(() => parseSnpReport(b)),
      ),
      { numRuns: RUNS },
    );
  });

  it("the DER readers never throw on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        parseCrl(b);
        certParts(b);
        readTlv(b, 0);
      }),
      { numRuns: RUNS },
    );
  });
});

const genoa = genoaSample();

describe.skipIf(!genoa)(`SNP verifier on mutated genuine reports${genoa ? "" : " (skipped: ../shared missing)"}`, () => {
  const g = genoa as NonNullable<typeof genoa>;
  it("never throws and never verifies a report with a changed signed or signature byte", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0x2a0 + 144 - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const m = g.report.slice();
        m[at] = (m[at] ?? 0) ^ xor;
        const v = verifySnpReport(m, { vcekPem: g.chainPem, now: new Date("2026-07-01T00:00:00Z") });
        expect(v.verified).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });
});
