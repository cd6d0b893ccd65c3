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
});
