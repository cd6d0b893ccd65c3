import { describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: {}, cwd: process.cwd() }, out, err };
}

describe("cloister command", () => {
  it("exits 2 with usage for an unknown command", async () => {
    const c = capture();
    expect(await main(["frobnicate"], c.io)).toBe(2);
    expect(c.err.join("")).toContain("unknown command");
  });
  it("lists its commands for --help", async () => {
    const c = capture();
    expect(await main(["--help"], c.io)).toBe(0);
    expect(c.out.join("")).toMatch(/verify[\s\S]*up[\s\S]*chat/);
  });
});
