import { describe, expect, it } from "vitest";
import { InferenceError } from "../errors.js";
import { SlotPool } from "./pool.js";

describe("SlotPool", () => {
  it("hands a released slot to the longest-waiting caller first", async () => {
    const pool = new SlotPool(["a"], { maxQueue: 4 });
    const first = await pool.acquire();
    const order: string[] = [];
    const w1 = pool.acquire().then((s) => order.push(`w1:${s}`));
    const w2 = pool.acquire().then((s) => order.push(`w2:${s}`));
    pool.release(first);
    await w1;
    pool.release("a");
    await w2;
    expect(order).toEqual(["w1:a", "w2:a"]);
  });

  it("rejects with BACKEND_BUSY when the wait queue is full", async () => {
    const pool = new SlotPool(["a"], { maxQueue: 1 });
    await pool.acquire();
    void pool.acquire().catch(() => undefined);
    await expect(pool.acquire()).rejects.toMatchObject({ code: "BACKEND_BUSY" });
  });

  it("rejects with BACKEND_BUSY when no slot frees up in time", async () => {
    const pool = new SlotPool(["a"], { maxQueue: 1, queueTimeoutMs: 20 });
    await pool.acquire();
    const err: unknown = await pool.acquire().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceError);
    expect(err).toMatchObject({ code: "BACKEND_BUSY" });
    expect(pool.waiting).toBe(0);
  });

  it("drops a waiter whose client went away, with CANCELLED", async () => {
    const pool = new SlotPool(["a"], { maxQueue: 2 });
    const held = await pool.acquire();
    const ac = new AbortController();
    const waiting = pool.acquire(ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: "CANCELLED" });
    pool.release(held);
    expect(pool.available).toBe(1);
  });
});
