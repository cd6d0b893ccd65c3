import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AttestationError } from "../../errors.js";
import { parseNrasBody } from "./nras.js";
import { parseOpaqueData } from "./opaque.js";
import { verifyNvidiaPayload } from "./payload.js";
import { parseSpdmEvidence } from "./spdm.js";
import { verifySpdmEvidence } from "./verify-spdm.js";
import { hopperSample } from "./test-vectors.js";

const RUNS = 2000;

/** Runs `fn`; anything thrown must be an AttestationError. */
function onlyAttestationErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
  }
}

/** A plausible header so random tails reach the deeper parsing code. */
const spdmPrefix = Uint8Array.from([0x11, 0xe0, 0x01, 0xff, ...new Array<number>(32).fill(7), 0x00, 0x11, 0x60, 0x00, 0x00]);

describe("SPDM and payload parsers under random input", () => {
  it("parseSpdmEvidence throws nothing but AttestationError on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (tail, withPrefix) => {
        const bytes = withPrefix ? Uint8Array.from([...spdmPrefix, ...tail]) : tail;
        onlyAttestationErrors(() => parseSpdmEvidence(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it("parseOpaqueData throws nothing but AttestationError", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyAttestationErrors(() => parseOpaqueData(b))), { numRuns: RUNS });
  });

  it("verifyNvidiaPayload and parseNrasBody never throw anything else on random JSON", () => {
    fc.assert(
      fc.property(fc.json(), fc.jsonValue(), (text, value) => {
        const v = verifyNvidiaPayload(text);
        expect(v.verified).toBe(false);
        onlyAttestationErrors(() => parseNrasBody(value));
      }),
      { numRuns: RUNS },
    );
  });
});

const sample = hopperSample();

describe.skipIf(!sample)(`SPDM parser and verifier on mutated genuine evidence${sample ? "" : " (skipped: ../shared missing)"}`, () => {
  const s = sample as NonNullable<typeof sample>;
  const mutation = fc.record({
    at: fc.nat({ max: (s?.evidence.length ?? 1) - 1 }),
    xor: fc.integer({ min: 1, max: 255 }),
    cut: fc.option(fc.nat({ max: s?.evidence.length ?? 1 }), { nil: undefined }),
    insert: fc.uint8Array({ maxLength: 4 }),
  });

  it("never throws anything but AttestationError, and never verifies a changed byte", () => {
    fc.assert(
      fc.property(mutation, ({ at, xor, cut, insert }) => {
        const m = s.evidence.slice();
        m[at] = (m[at] ?? 0) ^ xor;
        const withInsert = Uint8Array.from([...m.subarray(0, at), ...insert, ...m.subarray(at)]);
        const bytes = cut === undefined ? withInsert : withInsert.subarray(0, cut);
        onlyAttestationErrors(() => parseSpdmEvidence(bytes));
        const v = verifySpdmEvidence({ evidence: bytes, certChainPem: s.certChainPem });
        expect(v.verified).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });
});
