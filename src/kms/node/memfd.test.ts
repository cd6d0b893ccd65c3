import { readFileSync, readlinkSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createMemFile } from "./memfd.js";

const linux = process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64");

describe.skipIf(!linux)(`in-memory model file (memfd)${linux ? "" : " (skipped: needs Linux x64/arm64)"}`, () => {
  it("is an anonymous memfd, on no filesystem, readable by path through /proc/self/fd", async () => {
    const f = await createMemFile("cloister-test");
    try {
      f.write(Buffer.from("weights!"), 0);
      f.write(Buffer.from("more"), 8);
      expect(readlinkSync(f.path)).toMatch(/^\/memfd:cloister-test \(deleted\)$/);
      expect(readFileSync(f.path, "utf8")).toBe("weights!more");
    } finally {
      f.close();
    }
    expect(() => readlinkSync(f.path)).toThrow();
  });
});
