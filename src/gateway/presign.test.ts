import { secp256k1 } from "@noble/curves/secp256k1.js";
import { verifyMessage as ethersVerify } from "ethers";
import { verifyMessage as viemVerify } from "viem";
import { describe, expect, it } from "vitest";
import { createSigner, personalMessageHash, recoverAddress } from "../seal/signing.js";
import { makePresignature, presignedSigner, signDigestPresigned, type Presignature } from "./presign.js";

const N = secp256k1.Point.Fn.ORDER;

describe("presigned ECDSA (nonce work done ahead of time)", () => {
  it("makes personal-message signatures that ours, ethers and viem recover to the node's address", async () => {
    const sk = secp256k1.utils.randomSecretKey();
    const address = createSigner("ecdsa", sk).address;
    const sign = presignedSigner(sk, makePresignature);
    for (let i = 0; i < 12; i++) {
      const text = `${"ab".repeat(32)}:${i.toString(16).padStart(64, "0")}`;
      const sig = sign(text);
      expect(sig).toMatch(/^0x[0-9a-f]{128}(1b|1c)$/);
      expect(recoverAddress(text, sig)).toBe(address);
      expect(ethersVerify(text, sig).toLowerCase()).toBe(address);
      expect(await viemVerify({ address: address as `0x${string}`, message: text, signature: sig as `0x${string}` })).toBe(true);
    }
  });

  it("always gives low-s and the right v, for both parities of R and for s that had to be negated", () => {
    const sk = secp256k1.utils.randomSecretKey();
    const d = BigInt(`0x${Buffer.from(sk).toString("hex")}`);
    const pub = secp256k1.getPublicKey(sk, false);
    const seen = new Set<string>();
    for (let i = 0; i < 64; i++) {
      const p = makePresignature();
      const digest = personalMessageHash(`m${i}`);
      const sig = signDigestPresigned(digest, d, p);
      expect(sig).not.toBeNull();
      if (!sig) continue;
      const s = BigInt(`0x${Buffer.from(sig.subarray(32, 64)).toString("hex")}`);
      expect(s <= N >> 1n).toBe(true);
      const v = sig[64] ?? 0;
      const rec = secp256k1.Signature.fromBytes(sig.subarray(0, 64), "compact").addRecoveryBit(v - 27);
      expect(Buffer.from(rec.recoverPublicKey(digest).toBytes(false))).toEqual(Buffer.from(pub));
      // noble's verify (lowS by default) accepts it too.
      expect(secp256k1.verify(sig.subarray(0, 64), digest, pub, { prehash: false })).toBe(true);
      seen.add(`${p[2]}/${v}`);
    }
    // Over 64 random nonces both R parities and both v values occur (chance of not: ~2^-60).
    expect([...seen].some((x) => x.startsWith("true"))).toBe(true);
    expect([...seen].some((x) => x.startsWith("false"))).toBe(true);
    expect([...seen].some((x) => x.endsWith("27"))).toBe(true);
    expect([...seen].some((x) => x.endsWith("28"))).toBe(true);
  });

  it("takes a fresh presignature for every signature: no nonce (r) signs twice, even for one text", () => {
    const sk = secp256k1.utils.randomSecretKey();
    const taken: Presignature[] = [];
    const sign = presignedSigner(sk, () => {
      const p = makePresignature();
      taken.push(p);
      return p;
    });
    const sigs = Array.from({ length: 20 }, () => sign("same text"));
    expect(taken).toHaveLength(20);
    expect(new Set(sigs.map((s) => s.slice(2, 66))).size).toBe(20);
    expect(new Set(taken.map((p) => p[1])).size).toBe(20);
  });

  it("a wrong presignature (r not from k) yields a signature that does not recover to the node: the client refuses it", () => {
    const sk = secp256k1.utils.randomSecretKey();
    const address = createSigner("ecdsa", sk).address;
    const good = makePresignature();
    const bad: Presignature = [good[0], (good[1] + 1n) % N, good[2]];
    const sig = presignedSigner(sk, () => bad)("text");
    let recovered: string | null = null;
    try {
      recovered = recoverAddress("text", sig);
    } catch {
      recovered = null;
    }
    expect(recovered).not.toBe(address);
  });

  it("refuses a secret key outside [1, n-1]", () => {
    expect(() => presignedSigner(new Uint8Array(32), makePresignature)).toThrow(RangeError);
  });
});
