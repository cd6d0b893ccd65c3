import { describe, expect, it } from "vitest";
import { resolveThreads } from "./runtime.js";
import { defaultThreads } from "./threads.js";

describe("default thread count", () => {
  it("leaves one logical CPU for Node's own thread and never exceeds the physical cores", () => {
    expect(defaultThreads({ logical: 1 })).toBe(1);
    expect(defaultThreads({ logical: 2 })).toBe(1); // this machine: 1 thread is ~16x faster than 2 on stories260K
    expect(defaultThreads({ logical: 2, physical: 1 })).toBe(1);
    expect(defaultThreads({ logical: 4 })).toBe(3);
    expect(defaultThreads({ logical: 8, physical: 4 })).toBe(4); // hyper-threads are not cores
    expect(defaultThreads({ logical: 16, physical: 16 })).toBe(15);
    expect(defaultThreads({ logical: 0 })).toBe(1);
  });

  it("is what the node uses when neither --threads, CLOISTER_THREADS nor CI says otherwise", () => {
    expect(resolveThreads(undefined, {}, { logical: 2, physical: 2 })).toBe(1);
    expect(resolveThreads(undefined, {}, { logical: 8, physical: 4 })).toBe(4);
    expect(resolveThreads(undefined, { CLOISTER_THREADS: "3" }, { logical: 2 })).toBe(3);
    expect(resolveThreads(6, { CLOISTER_THREADS: "3" }, { logical: 2 })).toBe(6);
    expect(resolveThreads(undefined, { CI: "1" }, { logical: 16 })).toBe(1);
  });
});
