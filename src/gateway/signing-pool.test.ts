import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { describe, expect, it } from "vitest";
import { createSigner, verifySignedText } from "../seal/signing.js";
import { createSigningPool } from "./signing-pool.js";

const keysAndSigners = () => {
  const keys = { ecdsa: secp256k1.utils.randomSecretKey(), ed25519: ed25519.utils.randomSecretKey() };
  return { keys, signers: { ecdsa: createSigner("ecdsa", keys.ecdsa), ed25519: createSigner("ed25519", keys.ed25519) } };
};
const texts = Array.from({ length: 5 }, (_, i) => `${"a".repeat(63)}${i}:${"b".repeat(64)}`);

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("signing pool (presignatures from a worker thread)", () => {
  it("signs with the node's keys: ecdsa verifies to its address, ed25519 is byte-identical to the node's signer", async () => {
    const { keys, signers } = keysAndSigners();
    const pool = createSigningPool(keys, 1, { batch: 8 });
    try {
      await until(() => pool.stats().ready >= 8);
      const ecdsa = await Promise.all(texts.map((t) => pool.sign("ecdsa", t)));
      for (const [i, t] of texts.entries()) expect(verifySignedText({ text: t, signature: ecdsa[i] ?? "", signing_address: signers.ecdsa.address, signing_algo: "ecdsa" })).toBe(true);
      // Random nonces: every signature distinct, none made on the event loop while the queue had some.
      expect(new Set(ecdsa).size).toBe(texts.length);
      expect(pool.stats().inline).toBe(0);
      const ed = await Promise.all(texts.map((t) => pool.sign("ed25519", t)));
      expect(ed).toEqual(texts.map((t) => signers.ed25519.sign(t)));
    } finally {
      await pool.close();
    }
    await expect(pool.sign("ecdsa", "x:y")).rejects.toThrow(/closed/);
  });

  it("refills the queue, and signs on the event loop when it is empty, so no signature waits or is skipped", async () => {
    const { keys, signers } = keysAndSigners();
    const pool = createSigningPool(keys, 1, { batch: 4, lowWater: 4 });
    try {
      // At once: the worker has not answered yet, so these make their own presignatures.
      const early = await Promise.all(texts.map((t) => pool.sign("ecdsa", t)));
      expect(pool.stats().inline).toBeGreaterThan(0);
      for (const [i, t] of texts.entries()) expect(verifySignedText({ text: t, signature: early[i] ?? "", signing_address: signers.ecdsa.address, signing_algo: "ecdsa" })).toBe(true);
      await until(() => pool.stats().ready >= 4);
      const inline = pool.stats().inline;
      for (let i = 0; i < 12; i++) await pool.sign("ecdsa", `t${i}`), await until(() => pool.stats().ready >= 1);
      // Kept topped up: later signatures came from the worker.
      expect(pool.stats().inline).toBe(inline);
    } finally {
      await pool.close();
    }
  });
});
