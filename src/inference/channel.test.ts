import { describe, expect, it } from "vitest";
import { createChannel } from "./channel.js";

describe("createChannel", () => {
  it("yields values pushed before and after the reader starts, then ends", async () => {
    const ch = createChannel<number>();
    ch.push(1);
    setTimeout(() => {
      ch.push(2);
      ch.end();
    }, 5);
    const seen: number[] = [];
    for await (const v of ch) seen.push(v);
    expect(seen).toEqual([1, 2]);
  });

  it("delivers buffered values before the failure", async () => {
    const ch = createChannel<string>();
    ch.push("a");
    ch.fail(new Error("boom"));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const v of ch) seen.push(v);
      })(),
    ).rejects.toThrow("boom");
    expect(seen).toEqual(["a"]);
  });

  it("take hands out buffered values in order and nothing when empty", () => {
    const ch = createChannel<string>();
    expect(ch.take()).toBeUndefined();
    ch.push("a");
    ch.push("b");
    expect([ch.take(), ch.take(), ch.take()]).toEqual(["a", "b", undefined]);
  });

  it("ready waits for the next push, and says false once ended and drained", async () => {
    const ch = createChannel<number>();
    const waiting = ch.ready();
    setTimeout(() => ch.push(7), 5);
    expect(await waiting).toBe(true);
    expect(ch.take()).toBe(7);
    ch.push(8);
    ch.end();
    // Ended, but a value is still buffered: it is not lost.
    expect(await ch.ready()).toBe(true);
    expect(ch.take()).toBe(8);
    expect(await ch.ready()).toBe(false);
    ch.push(9); // after end: dropped
    expect(ch.take()).toBeUndefined();
  });

  it("ready rejects with the failure only after the buffer is drained", async () => {
    const ch = createChannel<string>();
    const waiting = ch.ready();
    ch.push("a");
    ch.fail(new Error("boom"));
    expect(await waiting).toBe(true);
    expect(await ch.ready()).toBe(true);
    expect(ch.take()).toBe("a");
    await expect(ch.ready()).rejects.toThrow("boom");
  });

  it("ready rejects a reader already waiting when the channel fails", async () => {
    const ch = createChannel<string>();
    const waiting = ch.ready();
    ch.fail(new Error("gone"));
    await expect(waiting).rejects.toThrow("gone");
  });
});
