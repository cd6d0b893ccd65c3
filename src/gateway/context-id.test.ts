import { describe, expect, it } from "vitest";
import { newId } from "./context.js";

describe("request ids", () => {
  it("sort in the order they were made, carry 96 random bits, and never repeat", async () => {
    const first = newId("chatcmpl-");
    expect(first).toMatch(/^chatcmpl-[0-9a-f]{12}[A-Za-z0-9_-]{16}$/);
    expect(Math.abs(parseInt(first.slice(9, 21), 16) - Date.now())).toBeLessThan(5_000);
    await new Promise((r) => setTimeout(r, 5));
    const later = Array.from({ length: 10_000 }, () => newId("chatcmpl-"));
    for (const id of later) expect(id > first).toBe(true);
    expect(new Set(later).size).toBe(later.length);
    // The random part differs between ids made in the same millisecond.
    expect(new Set(later.map((id) => id.slice(21))).size).toBe(later.length);
  });
});
