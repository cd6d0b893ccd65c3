import { describe, expect, it } from "vitest";
import { findingsOf } from "../test-helpers.js";

describe("rule dynamic-code", () => {
  it("flags eval, new Function, vm, computed import and require", () => {
    const code = `import vm from "node:vm"; const m = "fs";\neval("1");\nnew Function("return 1")();\nvm.runInNewContext("1");\nawait import(m);\nrequire(m);`;
    expect(findingsOf("dynamic-code", code).map((f) => f.line)).toEqual([2, 3, 4, 5, 6]);
  });
  it("is quiet on literal imports and ordinary calls", () => {
    expect(findingsOf("dynamic-code", `const fs = await import("node:fs"); const p = require("node:path"); JSON.parse("{}"); obj.evaluate();`)).toEqual([]);
  });
});
