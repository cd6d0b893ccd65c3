import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../cli/main.js";
import type { CliIO } from "../cli/io.js";
import { clean } from "./clean/cleaner.js";
import { scrubLine } from "./scrub.js";

const dir = mkdtempSync(join(tmpdir(), "cloister-scrub-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(): CliIO & { lines: string[]; errs: string[] } {
  const lines: string[] = [];
  const errs: string[] = [];
  return { lines, errs, out: (t) => lines.push(t), err: (t) => errs.push(t), env: {}, cwd: dir };
}

describe("cloister data scrub", () => {
  it("prints the same cleaning as the pipeline's cleaner, spans in the original text", async () => {
    const texts = ["Call John Smith at (415) 555-2671", "nothing to see here"];
    writeFileSync(join(dir, "in.jsonl"), texts.map((text) => JSON.stringify({ text })).join("\n") + "\n");
    const o = io();
    expect(await main(["data", "scrub", "in.jsonl", "--json"], o)).toBe(0);
    const out = o.lines.map((l) => JSON.parse(l) as { text: string; spans: Array<{ start: number; end: number; type: string }> });
    expect(out).toHaveLength(2);
    expect(out[0]!.text).toBe(clean(texts[0]!).text);
    expect(out[0]!.spans.map((s) => [s.type, texts[0]!.slice(s.start, s.end)])).toEqual([
      ["PERSON", "John Smith"],
      ["PHONE", "(415) 555-2671"],
    ]);
    expect(out[1]!.text).toBe("nothing to see here");
  });
  it("names a bad line by number without echoing its content", async () => {
    writeFileSync(join(dir, "bad.jsonl"), '{"text": "ok"}\n{"secret": "536-22-1234"}\nnot json 536-22-1234\n');
    const o = io();
    expect(await main(["data", "scrub", "bad.jsonl"], o)).toBe(1);
    expect(o.lines).toEqual(["ok"]);
    expect(o.errs.join("\n")).toContain("line 2");
    expect(o.errs.join("\n")).toContain("line 3");
    expect(o.errs.join("\n")).not.toContain("536-22-1234");
  });
  it("scrubLine refuses a line without a text field", () => {
    expect(() => scrubLine('{"txt": 1}', 7)).toThrow(/line 7/);
  });
});
