import { describe, expect, it } from "vitest";
import { DENIED_X86_64, seccompProgram } from "./seccomp.js";

describe("seccomp program", () => {
  it("is a whole number of 8-byte instructions: arch check, x32 check, one compare per denied call, allow, errno", () => {
    const p = seccompProgram("x64");
    const n = Object.keys(DENIED_X86_64).length;
    expect(p?.length).toBe((5 + n + 2) * 8);
    // Last instruction: RET ERRNO|EPERM; the one before: RET ALLOW.
    expect(p?.readUInt32LE(p.length - 4)).toBe(0x00050001);
    expect(p?.readUInt32LE(p.length - 12)).toBe(0x7fff0000);
    // Every denied compare jumps exactly onto the ERRNO return.
    for (let i = 0; i < n; i++) expect((p?.readUInt8((5 + i) * 8 + 2) ?? 0) + 5 + i + 1).toBe(5 + n + 1);
  });
  it("is absent off x86_64 rather than wrong", () => {
    expect(seccompProgram("arm64")).toBeNull();
  });
});
