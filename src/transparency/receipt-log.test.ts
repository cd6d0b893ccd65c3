/**
 * The receipt log on its own: one leaf per exchange however many ids find it, an alias
 * that cannot take another exchange's id, salts and kinds kept per leaf, and what a leaf
 * costs the process for the rest of the boot.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { ReceiptLog, verifyReceiptInclusion } from "./receipt-log.js";

const text = (i: number): string => `${"a".repeat(63)}${i % 10}:${i.toString(16).padStart(64, "0")}`;

describe("receipt log", () => {
  it("logs an exchange once, found by the request id and by its alias", () => {
    const log = new ReceiptLog("test/receipts");
    const ref = log.append("chatcmpl-1", text(1), { alias: "cmpl-upstream-1" });
    expect(log.size).toBe(1);
    const a = log.proof("chatcmpl-1");
    const b = log.proof("cmpl-upstream-1");
    expect(a).toEqual(b);
    expect(a).toMatchObject({ index: 0, salt: ref.salt, kind: "completion", tree_size: 1 });
    expect(verifyReceiptInclusion(text(1), a!)).toBe(true);
  });

  it("never lets an alias take an id already in use (an upstream that echoes another request's id)", () => {
    const log = new ReceiptLog("test/receipts");
    log.append("chatcmpl-A", text(1));
    log.append("chatcmpl-B", text(2), { alias: "chatcmpl-A" });
    expect(log.proof("chatcmpl-A")?.index).toBe(0);
    expect(verifyReceiptInclusion(text(1), log.proof("chatcmpl-A")!)).toBe(true);
    expect(log.proof("chatcmpl-B")?.index).toBe(1);
  });

  it("gives each leaf its own salt and kind, and every proof verifies after thousands of appends", () => {
    const log = new ReceiptLog("test/receipts");
    const refs = Array.from({ length: 3000 }, (_, i) => log.append(`id-${i}`, text(i), { kind: i % 3 === 0 ? "agent-run" : "completion" }));
    expect(new Set(refs.map((r) => r.salt)).size).toBe(3000);
    for (const i of [0, 255, 256, 1999, 2999]) {
      const p = log.proof(`id-${i}`)!;
      expect(p).toMatchObject({ index: i, salt: refs[i]?.salt, kind: i % 3 === 0 ? "agent-run" : "completion", tree_size: 3000 });
      expect(verifyReceiptInclusion(text(i), p)).toBe(true);
      expect(verifyReceiptInclusion(text(i + 1), p)).toBe(false);
    }
    expect(log.proof("id-3000")).toBeNull();
  });

  it("keeps a leaf in well under 300 bytes of heap besides its ids (it was ~1.6 KB: an object per hash, salt and ref, a rope per salt)", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const settle = async (): Promise<number> => {
      await new Promise((r) => setImmediate(r));
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const n = 40_000;
    const ids = Array.from({ length: n }, (_, i) => `chatcmpl-${i.toString(36).padStart(24, "x")}`);
    const texts = Array.from({ length: n }, (_, i) => text(i));
    const fill = (): ReceiptLog => {
      const log = new ReceiptLog("test/receipts");
      for (let i = 0; i < n; i++) log.append(ids[i] as string, texts[i] as string);
      log.checkpointText();
      return log;
    };
    fill(); // compiles and warms everything the measured run uses
    const before = await settle();
    const log = fill();
    const after = await settle();
    const perLeaf = (after - before) / n;
    expect(log.size).toBe(n);
    expect(perLeaf).toBeLessThan(300);
  });
});
