import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AttestationError } from "../../errors.js";
import { fromHex } from "../../util/bytes.js";
import { parseCcelLog, parseCcelTable } from "../eventlog/ccel.js";
import { parseDstackEventLog } from "../eventlog/dstack.js";
import { createSimulatedNode } from "../simulator/report.js";
import { verifyAttestationReport } from "../verify.js";
import { verifyEvidence } from "../verify-evidence.js";

const hexString = (maxLength: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(..."0123456789abcdef"), { maxLength }).map((a) => a.join(""));

/** Runs fn and fails the property if it throws anything but an AttestationError. */
async function onlyAttestationErrors(fn: () => unknown): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (e) {
    if (e instanceof AttestationError) return true;
    throw e;
  }
}

// A valid log head (Spec ID event, SHA-384 only) so mutations reach the event parser.
const SPEC_ID = fromHex(
  "0100000003000000" + "00".repeat(20) + "21000000" + "53706563204944204576656e74303300" + "00000000" + "00020002" + "01000000" + "0c003000" + "00",
);

describe("fuzz: parsers of untrusted evidence only throw AttestationError", () => {
  it("CCEL log and table parsers", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.boolean(), async (tail, withHead) => {
        const bytes = withHead ? new Uint8Array([...SPEC_ID, ...tail]) : tail;
        return (await onlyAttestationErrors(() => parseCcelLog(bytes))) && (await onlyAttestationErrors(() => parseCcelTable(bytes)));
      }),
      { numRuns: 700 },
    );
  });

  it("dstack JSON event log parser", async () => {
    const entry = fc.record({
      imr: fc.oneof(fc.integer({ min: -2, max: 6 }), fc.string()),
      event_type: fc.oneof(fc.constant(0x08000001), fc.integer(), fc.double()),
      digest: fc.oneof(fc.constant(""), hexString(100), fc.string()),
      event: fc.string({ maxLength: 10 }),
      event_payload: fc.oneof(hexString(20), fc.string({ maxLength: 10 })),
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.array(entry, { maxLength: 5 }), fc.string(), fc.jsonValue()), async (input) => onlyAttestationErrors(() => parseDstackEventLog(input))),
      { numRuns: 500 },
    );
  });

  it("report parser and evidence dispatcher", async () => {
    const base = (await createSimulatedNode({ gpu: false }).report(new Uint8Array(32))) as unknown as Record<string, unknown>;
    const keys = Object.keys(base);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...keys), fc.jsonValue(), async (key, value) =>
        onlyAttestationErrors(() => verifyAttestationReport({ ...base, [key]: value }, { allowSimulated: true })),
      ),
      { numRuns: 500 },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 700 }), fc.string().map((s) => new TextEncoder().encode(s))), async (bytes) =>
        onlyAttestationErrors(() => verifyEvidence(bytes)),
      ),
      { numRuns: 300 },
    );
  });

  it("never verifies a simulated report after a random field change it binds", async () => {
    const node = createSimulatedNode({ gpu: false });
    const r = (await node.report(new Uint8Array(32))) as unknown as Record<string, unknown>;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("signing_public_key", "e2e_public_key", "intel_quote"), fc.nat(), async (key, at) => {
        const hex = String(r[key]);
        // In the quote, only header, TD report, signature and attestation key (764 bytes):
        // the PEM framing after them is unsigned text, and a broken BEGIN/END marker of the
        // last certificate just drops the root, which the verifier supplies anyway.
        const span = key === "intel_quote" ? 2 * (48 + 584 + 4 + 64 + 64) : hex.length;
        const i = at % span;
        const flipped = hex.slice(0, i) + (hex[i] === "0" ? "1" : "0") + hex.slice(i + 1);
        try {
          const v = await verifyAttestationReport({ ...r, [key]: flipped }, { allowSimulated: true });
          expect(v.verified).toBe(false);
        } catch (e) {
          expect(e).toBeInstanceOf(AttestationError);
        }
      }),
      { numRuns: 150 },
    );
  });
});
