import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AttestationError } from "../../errors.js";
import { toHex } from "../../util/bytes.js";
import { sharedPath } from "../../util/shared.js";
import { verifyAttestationReport } from "../verify.js";
import { decodeCbor } from "./cbor.js";
import { decodeDstackAttestation } from "./dstack-attestation.js";

const DIR = sharedPath("vectors", "dstack");
const skipMsg = DIR ? "" : " (skipped: ../shared missing)";
// The SNP fixture's VCEK is valid from 2026-06-17.
const SNP_NOW = new Date("2026-07-01T00:00:00Z");

function raw(name: string): Buffer {
  const { attestation } = JSON.parse(readFileSync(`${DIR ?? ""}/${name}`, "utf8")) as { attestation: string };
  return Buffer.from(attestation, "hex");
}

/** A copy with the byte at `at` changed (xor 1), as a verifier input. */
function input(b: Buffer, at?: number): { attestation: string } {
  const c = Buffer.from(b);
  if (at !== undefined) c[at] = (c[at] ?? 0) ^ 0x01;
  return { attestation: c.toString("hex") };
}

/** Offset of the first occurrence of `needle` (+ delta); fails the test when absent. */
function find(b: Buffer, needle: string | Buffer, delta = 0): number {
  const i = b.indexOf(needle);
  if (i < 0) throw new Error(`fixture lacks ${String(needle)}`);
  return i + delta;
}

const codes = (v: { errors: readonly { code: string }[] }): string[] => [...new Set(v.errors.map((e) => e.code))];

describe.skipIf(!DIR)(`dstack SCALE attestation (verifier input)${skipMsg}`, () => {
  it("decodes the TDX lite attestation: quote, stripped event log, runtime events, report_data, vm_config", () => {
    const a = decodeDstackAttestation(raw("tdx-lite-attestation.json"));
    if (a.kind !== "tdx") throw new Error("not TDX");
    expect(a.quote.length).toBe(5006);
    expect(a.eventLog.filter((e) => e.imr === 0).map((e) => e.event)).toEqual(["acpi-loader", "acpi-rsdp", "acpi-tables"]);
    expect(a.runtimeEvents.map((e) => e.event)).toContain("compose-hash");
    expect(toHex(a.reportData)).toBe(toHex(a.quote.subarray(568, 632)));
    expect(JSON.parse(a.config)).toMatchObject({ tdx_attestation_variant: "lite", memory_size: 2147483648 });
  });

  it("decodes the SEV-SNP attestation: 1184-byte report, ASK + VCEK PEMs, mr_config", () => {
    const a = decodeDstackAttestation(raw("sev-snp-attestation.json"));
    if (a.kind !== "sev-snp") throw new Error("not SNP");
    expect(a.report.length).toBe(1184);
    expect(a.certChainPem.length).toBe(2);
    expect(JSON.parse(a.mrConfig)).toMatchObject({ key_provider: "kms", version: 3 });
  });

  it("verifies the TDX lite attestation offline: quote, report_data, RTMR3 replay, image → MRTD", async () => {
    const v = await verifyAttestationReport(input(raw("tdx-lite-attestation.json")), { now: new Date("2026-06-01T00:00:00Z"), acceptUnchecked: ["tcb"] });
    expect(v.errors).toEqual([]);
    expect(v.verified).toBe(true);
    expect(v.tee).toBe("tdx");
    expect(v.measurements["os_image_hash"]).toBe("e6f5cfec20c02e7b97baa213d0f718020b55e040172d90ccbcb946d56c8b09db");
    expect(v.appIdentity?.composeHash).toMatch(/^86b0e55f/);
    expect(v.unchecked.some((u) => u.startsWith("TCB status"))).toBe(true);
    expect(v.unchecked.some((u) => u.startsWith("RTMR1/RTMR2 from the image"))).toBe(true);
  });

  it("verifies the SEV-SNP attestation offline: VCEK chain, report_data, HOST_DATA binds mr_config", async () => {
    const v = await verifyAttestationReport(input(raw("sev-snp-attestation.json")), { now: SNP_NOW, acceptUnchecked: ["tcb"] });
    expect(v.errors).toEqual([]);
    expect(v.tee).toBe("sev-snp");
    expect(v.appIdentity?.appId).toBe("86e59625be93207bc2351c4d1bba20037cec8e16");
    expect(v.measurements["compose_hash"]).toBe("86e59625be93207bc2351c4d1bba20037cec8e168da6b18f559af5af657b7a23");
    expect(v.unchecked.some((u) => u.startsWith("SNP launch measurement"))).toBe(true);
  });

  it("rejects a changed byte in the quote body, report_data, a runtime event or the image hash, each by its own code", async () => {
    const b = raw("tdx-lite-attestation.json");
    const now = { now: new Date("2026-06-01T00:00:00Z"), acceptUnchecked: ["tcb" as const] };
    expect(codes(await verifyAttestationReport(input(b, 4 + 48 + 200), now))).toContain("QUOTE_SIGNATURE_INVALID"); // MRTD
    const rdAt = find(b, '{"os_image_hash"', -2 - 64); // report_data, then config's 2-byte compact length
    expect(codes(await verifyAttestationReport(input(b, rdAt), now))).toEqual(["REPORT_DATA_MISMATCH"]);
    const rt = find(b, "storage-fs", 0);
    const lastRt = b.lastIndexOf("storage-fs"); // the runtime_events copy (after the event log's)
    expect(lastRt).toBeGreaterThan(rt);
    expect(codes(await verifyAttestationReport(input(b, lastRt + "storage-fs".length + 1), now))).toEqual(expect.arrayContaining(["RTMR_MISMATCH"]));
    const img = find(b, '"os_image_hash":"', 17);
    expect(codes(await verifyAttestationReport(input(b, img), now))).toEqual(["OS_IMAGE_MISMATCH"]);
  });

  it("rejects an SNP attestation whose mr_config or runtime compose-hash was changed", async () => {
    const b = raw("sev-snp-attestation.json");
    const mr = find(b, '{"app_id":"', 11); // the attested mr_config comes before runtime events and vm_config
    expect(codes(await verifyAttestationReport(input(b, mr), { now: SNP_NOW, acceptUnchecked: ["tcb"] }))).toContain("APP_CONFIG_MISMATCH");
    const ev = b.indexOf("compose-hash") + "compose-hash".length + 2; // name, compact length, payload
    expect(codes(await verifyAttestationReport(input(b, ev), { now: SNP_NOW, acceptUnchecked: ["tcb"] }))).toEqual(["APP_CONFIG_MISMATCH"]);
    const rd = find(b, "attest-test-fixture");
    const last = b.lastIndexOf("attest-test-fixture"); // the attestation's own report_data copy
    expect(last).toBeGreaterThan(rd);
    expect(codes(await verifyAttestationReport(input(b, last), { now: SNP_NOW, acceptUnchecked: ["tcb"] }))).toEqual(["REPORT_DATA_MISMATCH"]);
  });

  it("truncated, extended or randomly mutated encodings give typed errors or failed verification, never a crash", async () => {
    const b = raw("tdx-lite-attestation.json");
    // Bytes that bind: the quote's header + TD body, and runtime_events + report_data.
    const bound = (at: number): boolean => (at >= 4 && at < 4 + 48 + 584) || (at >= b.lastIndexOf("system-preparing") && at < find(b, '{"os_image_hash"', -2));
    await expect(verifyAttestationReport({ attestation: b.subarray(0, b.length - 1).toString("hex") })).rejects.toBeInstanceOf(AttestationError);
    await expect(verifyAttestationReport({ attestation: `${b.toString("hex")}00` })).rejects.toBeInstanceOf(AttestationError);
    await fc.assert(
      fc.asyncProperty(fc.nat(b.length - 1), fc.integer({ min: 1, max: 255 }), async (at, x) => {
        const c = Buffer.from(b);
        c[at] = (c[at] ?? 0) ^ x;
        try {
          const v = await verifyAttestationReport({ attestation: c.toString("hex") }, { now: new Date("2026-06-01T00:00:00Z"), acceptUnchecked: ["tcb"] });
          // Unsigned bytes (quote padding, the stripped boot log, vm_config's other fields) may change.
          if (v.verified) expect(bound(at)).toBe(false);
        } catch (e) {
          expect(e).toBeInstanceOf(AttestationError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("SCALE and CBOR decoders on random input (no vectors needed)", () => {
  const typedOnly = (f: () => unknown): void => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(AttestationError);
    }
  };

  it("decodeDstackAttestation only ever returns or throws AttestationError (random and variant-prefixed bytes)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.constantFrom([], [0, 0], [0, 3], [0, 0, 0x01, 0x01]), (body, head) => {
        typedOnly(() => decodeDstackAttestation(Uint8Array.from([...head, ...body])));
      }),
      { numRuns: 2000 },
    );
  });

  it("decodeCbor only ever returns or throws AttestationError", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => typedOnly(() => decodeCbor(b))), { numRuns: 2000 });
  });

  it("decodes what it should: a CBOR map with text, bytes, ints, arrays", () => {
    // {"a": h'0102', "b": [1, -2, true, null], "c": "x"}
    const bytes = Uint8Array.from([0xa3, 0x61, 0x61, 0x42, 1, 2, 0x61, 0x62, 0x84, 0x01, 0x21, 0xf5, 0xf6, 0x61, 0x63, 0x61, 0x78]);
    expect(decodeCbor(bytes)).toEqual({ a: Uint8Array.from([1, 2]), b: [1, -2, true, null], c: "x" });
  });
});
