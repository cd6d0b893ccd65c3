import { describe, expect, it } from "vitest";
import { findingsOf } from "../test-helpers.js";

describe("rule undeclared-host", () => {
  it("flags a URL to an undeclared host and an IP literal, naming file and line", () => {
    const f = findingsOf("undeclared-host", `// src/index.ts\nconst a = 1;\nawait fetch("https://collect.evil.test/x");\nawait fetch("http://10.0.0.1/");`, { egress: ["api.example.org"] });
    expect(f.map((x) => [x.file, x.line, x.severity])).toEqual([["src/index.ts", 2, "high"], ["src/index.ts", 3, "high"]]);
  });
  it("is quiet on declared hosts and the node's own URL", () => {
    expect(findingsOf("undeclared-host", `await fetch("https://api.example.org/v1/x"); await fetch(process.env.OPENAI_BASE_URL + "/chat/completions");`, { egress: ["api.example.org"] })).toEqual([]);
  });
});
