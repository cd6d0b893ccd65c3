/**
 * What the node's hot-path signer (./signing-pool.ts) relies on from its libraries, so an
 * upgrade that changes them fails here:
 *   - tiny-secp256k1 (libsecp256k1): signRecoverable over a 32-byte digest is RFC 6979
 *     deterministic and low-s, byte-identical to @noble/curves' recovered-format sign,
 *     with the same recovery id; isPrivate refuses 0 and n;
 *   - secp256k1 (libsecp256k1's native addon, through its `bindings` entry): the prebuilt
 *     addon loads on linux-x64 glibc (the node's platform), and ecdsaSign gives the same
 *     bytes and recovery id;
 *   - node:crypto: Ed25519 through a JWK KeyObject signs RFC 8032 bytes identical to noble's.
 */
import { createPrivateKey, sign } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { isPrivate, signRecoverable } from "tiny-secp256k1";
import { describe, expect, it } from "vitest";
import { nativeEcdsaSigner } from "./signing-pool.js";
import { recoverableSigner, wasmSigner } from "./secp256k1-native.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("tiny-secp256k1 contract", () => {
  it("signRecoverable equals noble's RFC 6979 low-s signature and recovery id", () => {
    for (let i = 0; i < 32; i++) {
      const d = secp256k1.utils.randomSecretKey();
      const h = crypto.getRandomValues(new Uint8Array(32));
      const ours = signRecoverable(h, d);
      const noble = secp256k1.sign(h, d, { prehash: false, format: "recovered" });
      // noble's recovered format is recovery || r || s.
      expect(hex(ours.signature)).toBe(hex(noble.subarray(1)));
      expect(ours.recoveryId).toBe(noble[0]);
      const s = BigInt(`0x${hex(ours.signature.subarray(32))}`);
      expect(s <= secp256k1.Point.Fn.ORDER >> 1n).toBe(true);
    }
  });

  it("isPrivate refuses 0 and n", () => {
    expect(isPrivate(new Uint8Array(32))).toBe(false);
    expect(isPrivate(Buffer.from(secp256k1.Point.Fn.ORDER.toString(16).padStart(64, "0"), "hex"))).toBe(false);
    expect(isPrivate(secp256k1.utils.randomSecretKey())).toBe(true);
  });
});

describe("secp256k1 (native addon) contract", () => {
  it("loads the native addon on linux-x64 (the node's platform), not the wasm fallback", () => {
    if (process.platform === "linux" && process.arch === "x64" && process.env["CLOISTER_SECP256K1"] !== "wasm") expect(recoverableSigner().impl).toBe("native");
  });

  it("ecdsaSign equals noble's RFC 6979 low-s signature and recovery id", () => {
    const lib = recoverableSigner();
    for (let i = 0; i < 32; i++) {
      const d = secp256k1.utils.randomSecretKey();
      const h = crypto.getRandomValues(new Uint8Array(32));
      const ours = lib.sign(h, d);
      const noble = secp256k1.sign(h, d, { prehash: false, format: "recovered" });
      expect(hex(ours.signature)).toBe(hex(noble.subarray(1)));
      expect(ours.recoveryId).toBe(noble[0]);
    }
  });

  it("the node's EIP-191 signer gives the same 0x r||s||v from either build", () => {
    const d = secp256k1.utils.randomSecretKey();
    const text = `${"a".repeat(64)}:${"b".repeat(64)}`;
    expect(nativeEcdsaSigner(d)(text)).toBe(nativeEcdsaSigner(d, wasmSigner)(text));
    expect(nativeEcdsaSigner(d)(text)).toMatch(/^0x[0-9a-f]{128}(1b|1c)$/);
  });
});

describe("node:crypto contract", () => {
  it("Ed25519 via a JWK KeyObject signs the same bytes as noble (RFC 8032 is deterministic)", () => {
    const sk = ed25519.utils.randomSecretKey();
    const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64url");
    const key = createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: b64(sk), x: b64(ed25519.getPublicKey(sk)) }, format: "jwk" });
    const msg = "a".repeat(64) + ":" + "b".repeat(64);
    expect(sign(null, Buffer.from(msg), key).toString("hex")).toBe(hex(ed25519.sign(new TextEncoder().encode(msg), sk)));
  });
});
