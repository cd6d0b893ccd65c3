/**
 * What the signer relies on from node:crypto (OpenSSL), checked against @noble/curves:
 * createECDH("secp256k1").setPrivateKey(k) derives k·G, and its compressed public key is
 * 0x02/0x03 (parity of y) || x; invalid scalars are refused; and Ed25519 through a JWK
 * KeyObject signs RFC 8032 bytes identical to noble's.
 */
import { createECDH, createPrivateKey, getCurves, sign } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { describe, expect, it } from "vitest";

describe("node:crypto contract for the presigning signer", () => {
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
