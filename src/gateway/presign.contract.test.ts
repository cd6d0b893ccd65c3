/**
 * What the signer relies on, checked against @noble/curves:
 *   - tiny-secp256k1 (libsecp256k1 as WebAssembly): pointFromScalar(k, true) is k·G as
 *     0x02/0x03 (parity of y) || x, and it refuses k = 0 and k >= n;
 *   - node:crypto: Ed25519 through a JWK KeyObject signs RFC 8032 bytes identical to
 *     noble's; OpenSSL's secp256k1 ECDH gives the same k·G (kept as the measured
 *     alternative, docs/notes/api.md).
 */
import { createECDH, createPrivateKey, getCurves, sign } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { pointFromScalar } from "tiny-secp256k1";
import { describe, expect, it } from "vitest";

const hex = (b: Uint8Array | null): string => (b ? Buffer.from(b).toString("hex") : "null");

describe("tiny-secp256k1 contract for the presigning signer", () => {
  it("pointFromScalar(k, true) is k·G, compressed as parity || x, for random k and k = 1, n - 1", () => {
    for (let i = 0; i < 32; i++) {
      const k = secp256k1.utils.randomSecretKey();
      expect(hex(pointFromScalar(k, true))).toBe(hex(secp256k1.getPublicKey(k, true)));
    }
    const one = new Uint8Array(32);
    one[31] = 1;
    expect(hex(pointFromScalar(one, true))).toBe(hex(secp256k1.Point.BASE.toBytes(true)));
    const nMinus1 = Buffer.from((secp256k1.Point.Fn.ORDER - 1n).toString(16).padStart(64, "0"), "hex");
    expect(hex(pointFromScalar(nMinus1, true))).toBe(hex(secp256k1.Point.BASE.negate().toBytes(true)));
  });

  it("refuses k = 0 and k >= n (never returns a point for them)", () => {
    const n = Buffer.from(secp256k1.Point.Fn.ORDER.toString(16).padStart(64, "0"), "hex");
    const refuses = (k: Uint8Array): boolean => {
      try {
        return pointFromScalar(k, true) === null;
      } catch {
        return true;
      }
    };
    expect(refuses(new Uint8Array(32))).toBe(true);
    expect(refuses(n)).toBe(true);
  });
});

describe("node:crypto contract for the signing pool", () => {
  it("OpenSSL has secp256k1 and ECDH.setPrivateKey(k) gives k·G, compressed as parity || x", () => {
    expect(getCurves()).toContain("secp256k1");
    const ecdh = createECDH("secp256k1");
    for (let i = 0; i < 16; i++) {
      const k = secp256k1.utils.randomSecretKey();
      ecdh.setPrivateKey(k);
      expect(Buffer.from(ecdh.getPublicKey(null, "compressed")).toString("hex")).toBe(Buffer.from(secp256k1.getPublicKey(k, true)).toString("hex"));
    }
    // k = 1 gives G itself.
    const one = new Uint8Array(32);
    one[31] = 1;
    ecdh.setPrivateKey(one);
    expect(Buffer.from(ecdh.getPublicKey(null, "compressed")).toString("hex")).toBe(Buffer.from(secp256k1.Point.BASE.toBytes(true)).toString("hex"));
  });

  it("refuses k = 0 and k >= n", () => {
    const ecdh = createECDH("secp256k1");
    expect(() => ecdh.setPrivateKey(new Uint8Array(32))).toThrow();
    const n = Buffer.from(secp256k1.Point.Fn.ORDER.toString(16).padStart(64, "0"), "hex");
    expect(() => ecdh.setPrivateKey(n)).toThrow();
  });

  it("Ed25519 via a JWK KeyObject signs the same bytes as noble (RFC 8032 is deterministic)", () => {
    const sk = ed25519.utils.randomSecretKey();
    const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64url");
    const key = createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: b64(sk), x: b64(ed25519.getPublicKey(sk)) }, format: "jwk" });
    const msg = "a".repeat(64) + ":" + "b".repeat(64);
    expect(sign(null, Buffer.from(msg), key).toString("hex")).toBe(Buffer.from(ed25519.sign(new TextEncoder().encode(msg), sk)).toString("hex"));
  });
});
