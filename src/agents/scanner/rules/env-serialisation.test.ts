import { describe, expect, it } from "vitest";
import { findingsOf } from "../test-helpers.js";

describe("rule env-serialisation", () => {
  it("flags JSON.stringify, Object.entries, spread and for-in over process.env", () => {
    const code = `JSON.stringify(process.env);\nObject.entries(process.env);\nconst e = { ...process.env };\nfor (const k in process.env) {}`;
    expect(findingsOf("env-serialisation", code).map((f) => f.line)).toEqual([1, 2, 3, 4]);
  });
  it("is quiet on reading one variable", () => {
    expect(findingsOf("env-serialisation", `const u = process.env.OPENAI_BASE_URL; JSON.stringify({ u });`)).toEqual([]);
  });
});
