import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { verifyMessage as ethersVerify } from "ethers";
import { recoverMessageAddress } from "viem";
import { describe, expect, it } from "vitest";
import { createSigner, verifySignedText } from "../seal/signing.js";
import { createSigningPool } from "./signing-pool.js";

const keysAndSigners = () => {
  const keys = { ecdsa: secp256k1.utils.randomSecretKey(), ed25519: ed25519.utils.randomSecretKey() };
  return { keys, signers: { ecdsa: createSigner("ecdsa", keys.ecdsa), ed25519: createSigner("ed25519", keys.ed25519) } };
};
const texts = Array.from({ length: 5 }, (_, i) => `${"a".repeat(63)}${i}:${"b".repeat(64)}`);

describe("signing pool (libsecp256k1 and OpenSSL on the hot path)", () => {
  it("signs the same bytes as the node's own signers (deterministic RFC 6979 and RFC 8032)", async () => {
    const { keys, signers } = keysAndSigners();
    const pool = createSigningPool(keys);
    for (const t of texts) {
      expect(await pool.sign("ecdsa", t)).toBe(signers.ecdsa.sign(t));
      expect(await pool.sign("ed25519", t)).toBe(signers.ed25519.sign(t));
    }
    await pool.close();
    await expect(pool.sign("ecdsa", "x:y")).rejects.toThrow(/closed/);
  });

  it("gives signatures that our verifier, ethers and viem recover to the node's address", async () => {
    const { keys, signers } = keysAndSigners();
    const pool = createSigningPool(keys);
    for (const t of texts) {
      const sig = await pool.sign("ecdsa", t);
      expect(sig).toMatch(/^0x[0-9a-f]{130}$/);
      expect(verifySignedText({ text: t, signature: sig, signing_address: signers.ecdsa.address, signing_algo: "ecdsa" })).toBe(true);
      expect(ethersVerify(t, sig).toLowerCase()).toBe(signers.ecdsa.address.toLowerCase());
      expect((await recoverMessageAddress({ message: t, signature: sig as `0x${string}` })).toLowerCase()).toBe(signers.ecdsa.address.toLowerCase());
      // A signature over another text does not verify as this one.
      expect(verifySignedText({ text: `${t}x`, signature: sig, signing_address: signers.ecdsa.address, signing_algo: "ecdsa" })).toBe(false);
    }
  });

  it("refuses an invalid secret key", () => {
    expect(() => createSigningPool({ ecdsa: new Uint8Array(32), ed25519: ed25519.utils.randomSecretKey() })).toThrow(RangeError);
  });
});
