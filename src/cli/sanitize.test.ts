import { describe, expect, it } from "vitest";
import { sanitizedIO, stripControl } from "./sanitize.js";

describe("stripControl", () => {
  it("removes ESC, CR, BEL, C1 controls and bidi overrides; keeps newlines, tabs and ordinary Unicode", () => {
    expect(stripControl("a\u001b[2K\rb\u0007\u009b\u202ec\n\td ✓ é")).toBe("a[2Kbc\n\td ✓ é");
  });

  it("is safe on a sequence split across writes", () => {
    const seen: string[] = [];
    const io = sanitizedIO({ out: () => {}, err: () => {}, write: (t) => void seen.push(t), env: {}, cwd: "/" });
    for (const part of ["ok \u001b", "[2K", "\r✓ fake"]) io.write?.(part);
    expect(seen.join("")).toBe("ok [2K✓ fake");
  });
});
