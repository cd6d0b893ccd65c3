import { describe, expect, it, vi } from "vitest";
import { pooledRandomBytes } from "./random-pool.js";

describe("pooledRandomBytes", () => {
  it("never hands out the same bytes twice, across pool refills", () => {
    const seen = new Set<string>();
    // 32-byte draws over ~8 pools: a repeat would mean bytes were reused.
    for (let i = 0; i < 1000; i++) {
      const b = pooledRandomBytes(32);
      expect(b.length).toBe(32);
      const hex = Buffer.from(b).toString("hex");
      expect(seen.has(hex)).toBe(false);
      seen.add(hex);
    }
  });

  it("gives each caller its own copy, which later draws and the pool's wiping leave alone", () => {
    const a = pooledRandomBytes(32);
    const kept = Buffer.from(a);
    // A view into the pool would read zeros here (the pool wipes what it hands out).
    expect(kept.equals(Buffer.alloc(32))).toBe(false);
    for (let i = 0; i < 300; i++) pooledRandomBytes(32);
    expect(Buffer.from(a).equals(kept)).toBe(true);
  });

  it("calls the platform CSPRNG once per pool, not once per draw", () => {
    const spy = vi.spyOn(crypto, "getRandomValues");
    try {
      for (let i = 0; i < 200; i++) pooledRandomBytes(18);
      // 3,600 bytes: at most one refill of the 4 KiB pool (plus one if this draw started near its end).
      expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
      expect(spy.mock.calls.length).toBeGreaterThanOrEqual(1);
    } finally {
      spy.mockRestore();
    }
  });

  it("refuses sizes it cannot serve", () => {
    expect(() => pooledRandomBytes(4097)).toThrow(RangeError);
    expect(() => pooledRandomBytes(-1)).toThrow(RangeError);
  });
});
