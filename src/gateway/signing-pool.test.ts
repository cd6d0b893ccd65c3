import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { describe, expect, it } from "vitest";
import { createSigner, verifySignedText } from "../seal/signing.js";
import { createSigningPool } from "./signing-pool.js";

describe("signing pool (worker threads)", () => {
  it("makes the same signatures as the node's signers, for both algorithms, batched or not", async () => {
    const keys = { ecdsa: secp256k1.utils.randomSecretKey(), ed25519: ed25519.utils.randomSecretKey() };
    const signers = { ecdsa: createSigner("ecdsa", keys.ecdsa), ed25519: createSigner("ed25519", keys.ed25519) };
    const pool = createSigningPool(keys, 2);
    try {
      const texts = Array.from({ length: 5 }, (_, i) => `${"a".repeat(63)}${i}:${"b".repeat(64)}`);
      const ecdsa = await Promise.all(texts.map((t) => pool.sign("ecdsa", t)));
      const ed = await Promise.all(texts.map((t) => pool.sign("ed25519", t)));
      expect(ecdsa).toEqual(texts.map((t) => signers.ecdsa.sign(t)));
      expect(ed).toEqual(texts.map((t) => signers.ed25519.sign(t)));
      expect(verifySignedText({ text: texts[0] ?? "", signature: ecdsa[0] ?? "", signing_address: signers.ecdsa.address, signing_algo: "ecdsa" })).toBe(true);
    } finally {
      await pool.close();
    }
    await expect(pool.sign("ecdsa", "x:y")).rejects.toThrow(/closed/);
  });
});
