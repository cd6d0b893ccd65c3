/**
 * Hostile JSON schemas (tools and response_format) against the embedded backend, on the
 * real stories260K model. Each attack used to reach node-llama-cpp or llama.cpp unchecked:
 * a deep schema overflowed the stack (a RangeError, so a 500), and a repetition llama.cpp
 * refuses made it print the whole grammar, the client's enum and const values included,
 * to the node's stderr.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferenceError } from "../../errors.js";
import { sharedPath } from "../../util/shared.js";
import { InferenceCode, type ChatRequest, type GenerationEvent, type InferenceBackend } from "../backend.js";
import { createLlamaBackend } from "./backend.js";
import { capRepeats, findSchemaProblem, MAX_SCHEMA_DEPTH, MAX_SCHEMA_REPEAT } from "./schema-check.js";

const stories = sharedPath("models", "stories260K.gguf");

/** `levels` nested object schemas (two JSON containers each: the schema and its properties). */
function deepObject(levels: number): Record<string, unknown> {
  let s: Record<string, unknown> = { type: "string" };
  for (let i = 0; i < levels; i++) s = { type: "object", properties: { a: s }, required: ["a"] };
  return s;
}
/** `levels` nested array schemas (one container each). */
function deepArray(levels: number): Record<string, unknown> {
  let s: Record<string, unknown> = { type: "string" };
  for (let i = 0; i < levels; i++) s = { type: "array", items: s };
  return s;
}

async function outcome(events: AsyncIterable<GenerationEvent>): Promise<string> {
  try {
    let last = "";
    for await (const e of events) last = e.type;
    return last;
  } catch (e) {
    return e instanceof InferenceError ? `${e.code}: ${e.message}` : `${e instanceof Error ? e.name : "thrown"}: ${String(e)}`;
  }
}

describe.skipIf(!stories)(`hostile schemas on stories260K${stories ? "" : " (skipped: ../shared/models/stories260K.gguf missing)"}`, () => {
  let backend: InferenceBackend;
  beforeAll(async () => {
    backend = await createLlamaBackend({ modelPath: stories ?? "", threads: 1, parallel: 1, contextSize: 512 });
  });
  afterAll(() => backend?.close());
  const ask = (extra: Partial<ChatRequest>): ChatRequest => ({ model: "stories260K", messages: [{ role: "user", content: "hi" }], maxTokens: 4, temperature: 0, ...extra });

  it.each([
    ["auto tool, 3000 object levels", { tools: [{ name: "f", parameters: deepObject(3000) }] }],
    ["auto tool, 5000 array levels", { tools: [{ name: "f", parameters: deepArray(5000) }] }],
    ["required tool, 5000 array levels", { tools: [{ name: "f", parameters: deepArray(5000) }], toolChoice: "required" as const }],
    ["response_format, 3000 object levels", { jsonSchema: deepObject(3000) }],
  ])("%s: 400 INVALID_SCHEMA, not a RangeError (500)", async (_name, extra) => {
    expect(await outcome(backend.chat(ask(extra)))).toMatch(/^INVALID_SCHEMA: .*nests/);
  });

  it.each([
    ["minLength", { type: "string", minLength: 1000 }],
    ["minItems", { type: "array", items: { type: "integer" }, minItems: 2000 }],
  ])("a %s llama.cpp cannot hold is refused before it reaches llama.cpp", async (key, schema) => {
    const got = await outcome(backend.chat(ask({ jsonSchema: schema })));
    expect(got).toMatch(new RegExp(`^INVALID_SCHEMA: .*${key} must be an integer from 0 to ${MAX_SCHEMA_REPEAT}`));
    // The same on a tool: its grammar is built when the model calls it.
    expect(await outcome(backend.chat(ask({ tools: [{ name: "f", parameters: { type: "object", properties: { x: schema } } }] })))).toMatch(/^INVALID_SCHEMA: the parameters of tool "f"/);
  });

  it("an upper bound past what llama.cpp holds is lowered in the grammar, not refused (zod's .max(10000)), and the answer keeps the client's schema", async () => {
    const big = {
      type: "object",
      properties: {
        s: { type: "string", maxLength: 10_000 },
        a: { type: "array", items: { type: "integer" }, maxItems: 5_000 },
        // A property named like the keyword is a name, not a bound: it stays as it is.
        maxLength: { type: "string", maxLength: 3 },
      },
      required: ["s", "a", "maxLength"],
    };
    const text = async (events: AsyncIterable<GenerationEvent>): Promise<string> => {
      let out = "";
      for await (const e of events) if (e.type === "delta") out += e.text;
      return out;
    };
    const answer = JSON.parse(await text(backend.chat(ask({ jsonSchema: big, maxTokens: 200 })))) as { s: string; a: number[]; maxLength: string };
    expect(answer.s.length).toBeLessThanOrEqual(10_000);
    expect(answer.maxLength.length).toBeLessThanOrEqual(3);
    // The same schema as a required tool's parameters: called, not refused.
    expect(await outcome(backend.chat(ask({ tools: [{ name: "f", parameters: big }], toolChoice: "required", maxTokens: 200 })))).toBe("done");
    expect(capRepeats(big)).toEqual({ ...big, properties: { ...big.properties, s: { type: "string", maxLength: MAX_SCHEMA_REPEAT }, a: { type: "array", items: { type: "integer" }, maxItems: MAX_SCHEMA_REPEAT } } });
  });

  it("every schema at the bounds still compiles and generates", async () => {
    const atBounds = {
      type: "object",
      properties: {
        s: { type: "string", minLength: MAX_SCHEMA_REPEAT, maxLength: MAX_SCHEMA_REPEAT },
        t: { type: "string", maxLength: MAX_SCHEMA_REPEAT },
        a: { type: "array", prefixItems: [{ type: "string" }], items: { type: "object", properties: { k: { type: "integer" } } }, minItems: MAX_SCHEMA_REPEAT, maxItems: MAX_SCHEMA_REPEAT },
        b: { type: "array", items: { type: "integer" }, maxItems: MAX_SCHEMA_REPEAT },
      },
      required: ["s", "t", "a", "b"],
    };
    expect(await outcome(backend.chat(ask({ jsonSchema: atBounds })))).toBe("done");
    // The outer object is one level: MAX_SCHEMA_DEPTH containers in all.
    expect(await outcome(backend.chat(ask({ jsonSchema: deepArray(MAX_SCHEMA_DEPTH - 1) })))).toBe("done");
    expect(await outcome(backend.chat(ask({ jsonSchema: deepArray(MAX_SCHEMA_DEPTH) })))).toMatch(/^INVALID_SCHEMA/);
  });

  it("tool-call arguments and results nested past the stack in the history are rendered as text, not a RangeError", async () => {
    const deep = "[".repeat(6000) + "]".repeat(6000);
    const history = (args: string, result: string): ChatRequest["messages"] => [
      { role: "user", content: "hi" },
      { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "f", arguments: args }] },
      { role: "tool", content: result, toolCallId: "c1" },
    ];
    // Refused for its size (the text is 12 KB), like every prompt that long: an InferenceError, a 400.
    expect(await outcome(backend.chat(ask({ messages: history(deep, "ok") })))).toMatch(/^CONTEXT_OVERFLOW/);
  });
});

describe.skipIf(!stories)("llama.cpp's grammar errors and the node's stderr", () => {
  it("a refused repetition never prints the client's schema to stderr", () => {
    const dir = mkdtempSync(join(tmpdir(), "cloister-schema-"));
    try {
      const script = join(dir, "probe.mts");
      const backendUrl = new URL("./backend.ts", import.meta.url).href;
      writeFileSync(
        script,
        `import { createLlamaBackend } from ${JSON.stringify(backendUrl)};
const b = await createLlamaBackend({ modelPath: ${JSON.stringify(stories ?? "")}, threads: 1, parallel: 1, contextSize: 256 });
const schema = { type: "object", properties: { who: { const: "SECRET-ENUM-VALUE-7f3a" }, s: { type: "string", minLength: 1000 } }, required: ["who", "s"] };
try { for await (const _ of b.chat({ model: "stories260K", messages: [{ role: "user", content: "hi" }], maxTokens: 2, jsonSchema: schema })) void _; } catch (e) { console.log("refused", e.code); }
await b.close();
`,
      );
      const root = fileURLToPath(new URL("../../../", import.meta.url));
      const r = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: root, encoding: "utf8", timeout: 60_000 });
      expect(r.stdout, r.stderr.slice(0, 400)).toContain(`refused ${InferenceCode.INVALID_SCHEMA}`);
      expect(r.stderr).not.toContain("SECRET-ENUM-VALUE-7f3a");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!stories)("the prompt bound covers what the chat wrapper renders", () => {
  let backend: InferenceBackend;
  beforeAll(async () => {
    backend = await createLlamaBackend({ modelPath: stories ?? "", threads: 1, parallel: 1, contextSize: 512 });
  });
  afterAll(() => backend?.close());
  // Past the byte bound (512 tokens × the longest token), refused before a token is made;
  // before, only message text was counted and this much text was tokenized on the event loop first.
  const big = "hello world ".repeat(4000);
  const ask = (extra: Partial<ChatRequest>): ChatRequest => ({ model: "stories260K", messages: [{ role: "user", content: "hi" }], maxTokens: 4, ...extra });

  it.each([
    ["tool-call arguments in the history", { messages: [{ role: "user" as const, content: "hi" }, { role: "assistant" as const, content: "", toolCalls: [{ id: "c1", name: "f", arguments: JSON.stringify({ x: big }) }] }, { role: "tool" as const, content: "ok", toolCallId: "c1" }] }],
    ["a tool description", { tools: [{ name: "f", description: big }] }],
    ["a forced call's tool description", { tools: [{ name: "f", description: big }], toolChoice: "required" as const }],
  ])("%s: CONTEXT_OVERFLOW by size, before tokenizing", async (_name, extra) => {
    expect(await outcome(backend.chat(ask(extra)))).toMatch(/^CONTEXT_OVERFLOW: the prompt is over \d+ bytes/);
  });
});

describe("references the converter would have turned into \"any\"", () => {
  it.each([
    ["draft-07 definitions", { type: "object", properties: { v: { $ref: "#/definitions/I" } }, definitions: { I: { type: "integer" } } }],
    ["a JSON pointer into properties", { type: "object", properties: { v: { $ref: "#/properties/w" }, w: { type: "integer" } } }],
    ["the root itself", { type: "object", properties: { v: { $ref: "#" } } }],
    ["a definition of an inner scope, from outside it", { type: "object", properties: { a: { $defs: { I: { type: "integer" } }, type: "object" }, b: { $ref: "#/$defs/I" } } }],
    ["an Object.prototype name", { type: "object", properties: { v: { $ref: "#/$defs/constructor" } }, $defs: { I: { type: "integer" } } }],
  ])("%s: refused", (_name, schema) => {
    expect(findSchemaProblem(schema)).not.toBeNull();
  });

  it("a definition in any enclosing $defs is followed, as the converter does", () => {
    expect(findSchemaProblem({ type: "object", properties: { v: { $ref: "#/$defs/I" } }, $defs: { I: { type: "integer" } } })).toBeNull();
    expect(findSchemaProblem({ oneOf: [{ type: "object", properties: { v: { $ref: "#/$defs/N" } }, $defs: { N: { type: "object", properties: { next: { $ref: "#/$defs/N" } } } } }] })).toBeNull();
  });
});

describe.skipIf(!stories)("a required call among several tools, one with $defs", () => {
  let backend: InferenceBackend;
  beforeAll(async () => {
    backend = await createLlamaBackend({ modelPath: stories ?? "", threads: 1, parallel: 1, contextSize: 2048 });
  });
  afterAll(() => backend?.close());

  it("is generated (the tool's $defs are in scope under the oneOf), not refused as pointing nowhere", async () => {
    const withDefs = { name: "a", parameters: { type: "object", properties: { x: { $ref: "#/$defs/Loc" } }, required: ["x"], $defs: { Loc: { type: "object", properties: { city: { type: "string", maxLength: 8 } }, required: ["city"] } } } };
    const plain = { name: "b", parameters: { type: "object", properties: { y: { type: "integer" } }, required: ["y"] } };
    const got = await outcome(backend.chat({ model: "stories260K", messages: [{ role: "user", content: "hi" }], maxTokens: 80, temperature: 0, tools: [withDefs, plain], toolChoice: "required" }));
    expect(got).toBe("done");
  });
});

it("an empty draft-07 definitions object (what some generators always write) passes", () => {
  expect(findSchemaProblem({ type: "object", properties: { v: { type: "integer" } }, definitions: {} })).toBeNull();
});
