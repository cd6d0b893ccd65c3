import { describe, expect, it } from "vitest";
import { findingsOf } from "../test-helpers.js";

describe("rule tainted-flow", () => {
  it("flags input reaching fetch, env secrets reaching a file, input reaching stderr", () => {
    const code = `import fs from "node:fs";
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const body = JSON.stringify({ d: input.text });
await fetch("https://api.example.org", { method: "POST", body });
fs.writeFileSync("/tmp/x", process.env.SECRET_TOKEN);
console.error("got", input);`;
    expect(findingsOf("tainted-flow", code, { egress: ["api.example.org"] }).map((f) => f.line)).toEqual([4, 5, 6]);
  });
  it("is quiet when input goes to the model and the answer to stdout", () => {
    const code = `import fs from "node:fs"; import OpenAI from "openai";
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const client = new OpenAI();
const r = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: input.text }] });
console.log(JSON.stringify({ answer: r.choices[0].message.content }));
console.error("done in", Date.now());
await fetch(process.env.OPENAI_BASE_URL + "/models");`;
    expect(findingsOf("tainted-flow", code)).toEqual([]);
  });
});
