/**
 * What we rely on from shamir-secret-sharing 0.0.4 (Privy, audited by Cure53 and Zellic):
 * any t of n shares give the secret back, shares are the secret's length plus one byte
 * (the x coordinate, last), and fewer than t shares give NOT the secret but no error —
 * which is why the node checks the combined key's key id (fetch-key.ts).
 */
import { randomBytes } from "node:crypto";
import { combine, split } from "shamir-secret-sharing";
import { describe, expect, it } from "vitest";

describe("shamir-secret-sharing (dependency contract)", () => {
  it("any 2 of 3 shares combine into the secret; each share is 33 bytes with a distinct last byte", async () => {
    const secret = Uint8Array.from(randomBytes(32));
    const shares = await split(secret, 3, 2);
    expect(shares.map((s) => s.length)).toEqual([33, 33, 33]);
    expect(new Set(shares.map((s) => s[32])).size).toBe(3);
    for (const pair of [[0, 1], [0, 2], [1, 2]] as const) {
      expect(Buffer.from(await combine([shares[pair[0]]!, shares[pair[1]]!])).equals(Buffer.from(secret))).toBe(true);
    }
  });

  it("does not fail on too few shares of a 3-of-5 split: it silently returns a wrong secret", async () => {
    const secret = Uint8Array.from(randomBytes(32));
    const shares = await split(secret, 5, 3);
    const wrong = await combine([shares[0]!, shares[1]!]);
    expect(Buffer.from(wrong).equals(Buffer.from(secret))).toBe(false);
  });

  it("refuses a Buffer (it checks the constructor, not instanceof): callers pass plain Uint8Arrays", async () => {
    await expect(split(randomBytes(32), 3, 2)).rejects.toThrow(/Uint8Array/);
  });
});
