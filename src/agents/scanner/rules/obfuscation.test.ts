import { describe, expect, it } from "vitest";
import { findingsOf } from "../test-helpers.js";

describe("rule obfuscation", () => {
  it("flags base64 blobs, run-time decoding, fromCharCode and hosts built from pieces", () => {
    const blob = Buffer.alloc(90, 7).toString("base64");
    const code = `const a = "${blob}";\nconst h = Buffer.from("ZXZpbC50ZXN0", "base64").toString();\nconst s = String.fromCharCode(101, 118, 105, 108, 46, 116);\nawait fetch("https://" + sub + ".evil" + ".com/x");`;
    const f = findingsOf("obfuscation", code);
    expect(f.map((x) => x.line)).toEqual([1, 2, 3, 4]);
  });
  it("is quiet on short strings, text decoding and paths built from pieces", () => {
    const code = `const t = Buffer.from(data, "base64"); const u = base + "/chat/completions"; const id = "abc123"; await fetch(process.env.OPENAI_BASE_URL + "/models");`;
    expect(findingsOf("obfuscation", code)).toEqual([]);
  });
});
