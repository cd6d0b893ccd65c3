import { describe, expect, it } from "vitest";
import { AttestationError } from "../../errors.js";
import { toHex } from "../../util/bytes.js";
import { splitPemChain } from "./x509.js";
import { parseSpdmEvidence } from "./spdm.js";
import { verifySpdmEvidence } from "./verify-spdm.js";
import { hopperSample } from "./test-vectors.js";

const sample = hopperSample();
const codes = (v: { errors: readonly { code: string }[] }): string[] => v.errors.map((e) => e.code);

describe.skipIf(!sample)(`NVIDIA SPDM evidence, genuine Hopper sample${sample ? "" : " (skipped: ../shared missing)"}`, () => {
  const s = sample as NonNullable<typeof sample>;

  it("parses the GET_MEASUREMENTS request and response", () => {
    const ev = parseSpdmEvidence(s.evidence);
    expect(ev.request.code).toBe(0xe0);
    expect(ev.request.version).toBe(0x11);
    expect(toHex(ev.request.nonce)).toBe(toHex(s.nonce));
    expect(ev.response.blocks).toHaveLength(64);
    expect(ev.response.blocks[0]?.value).toHaveLength(48);
    expect(ev.response.signature).toHaveLength(96);
    expect(ev.response.opaque.driverVersion).toBe("550.90.07");
    expect(ev.response.opaque.vbiosVersion).toBe("96.00.9F.00.01");
  });

  it("verifies the signature, the chain to NVIDIA's root and the nonce", () => {
    const v = verifySpdmEvidence({ evidence: s.evidence, certChainPem: s.certChainPem, expectedNonce: s.nonce });
    expect(v.errors).toEqual([]);
    expect(v.verified).toBe(true);
    expect(v.tee).toBe("nvidia-gpu");
    expect(v.simulated).toBe(false);
    expect(Object.keys(v.measurements)).toHaveLength(64);
    expect(v.measurements["gpu.m1"]).toBe(toHex(parseSpdmEvidence(s.evidence).response.blocks[0]?.value ?? new Uint8Array()));
  });

  it("rejects a flipped signature byte with GPU_SIGNATURE_INVALID", () => {
    const bad = s.evidence.slice();
    bad[bad.length - 5] = (bad[bad.length - 5] ?? 0) ^ 0x01;
    expect(codes(verifySpdmEvidence({ evidence: bad, certChainPem: s.certChainPem }))).toEqual(["GPU_SIGNATURE_INVALID"]);
  });

  it("rejects a changed measurement with GPU_SIGNATURE_INVALID", () => {
    const bad = s.evidence.slice();
    bad[37 + 8 + 7] = (bad[37 + 8 + 7] ?? 0) ^ 0x80; // first byte of measurement block 1's value
    expect(codes(verifySpdmEvidence({ evidence: bad, certChainPem: s.certChainPem }))).toContain("GPU_SIGNATURE_INVALID");
  });

  it("rejects another nonce with GPU_NONCE_MISMATCH", () => {
    const v = verifySpdmEvidence({ evidence: s.evidence, certChainPem: s.certChainPem, expectedNonce: new Uint8Array(32) });
    expect(codes(v)).toEqual(["GPU_NONCE_MISMATCH"]);
  });

  it("reports FOREIGN_ROOT when the chain does not end at a trusted root", () => {
    const otherRoot = splitPemChain(s.certChainPem)[0]?.toString() ?? "";
    const v = verifySpdmEvidence({ evidence: s.evidence, certChainPem: s.certChainPem, trustedRootsPem: [otherRoot] });
    expect(codes(v)).toEqual(["FOREIGN_ROOT"]);
  });

  it("reports CERT_CHAIN_INVALID when a certificate in the middle is missing", () => {
    const certs = splitPemChain(s.certChainPem);
    const broken = [certs[0], certs[2], certs[3], certs[4]].map((c) => c?.toString()).join("");
    expect(codes(verifySpdmEvidence({ evidence: s.evidence, certChainPem: broken }))).toContain("CERT_CHAIN_INVALID");
  });

  it("accepts a caller-supplied root and marks the result simulated", () => {
    const certs = splitPemChain(s.certChainPem);
    const shortChain = certs.slice(0, 3).map((c) => c.toString()).join("");
    const v = verifySpdmEvidence({ evidence: s.evidence, certChainPem: shortChain, trustedRootsPem: [certs[3]?.toString() ?? ""] });
    expect(v.verified).toBe(true);
    expect(v.simulated).toBe(true);
  });

  it("reports truncated evidence as GPU_EVIDENCE_INVALID without throwing", () => {
    const v = verifySpdmEvidence({ evidence: s.evidence.subarray(0, 200), certChainPem: s.certChainPem });
    expect(codes(v)).toEqual(["GPU_EVIDENCE_INVALID"]);
    expect(() => parseSpdmEvidence(s.evidence.subarray(0, 200))).toThrow(AttestationError);
  });
});

describe("NVIDIA SPDM parser without vectors", () => {
  it("rejects a request that is not GET_MEASUREMENTS", () => {
    const bytes = new Uint8Array(200);
    bytes[0] = 0x11;
    bytes[1] = 0x84;
    try {
      parseSpdmEvidence(bytes);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AttestationError);
      expect((e as AttestationError).code).toBe("GPU_EVIDENCE_INVALID");
    }
  });
});
