/**
 * Tool calling on the embedded backend (docs/protocol.md "Tool calling").
 *
 * - `auto`: the tools go to node-llama-cpp as functions; the model's chat wrapper (its own
 *   template when the GGUF has one: Llama 3.x, Qwen, Mistral, Functionary, ...; else the
 *   generic `||call: name({...})` syntax of node-llama-cpp's fallback wrapper) documents
 *   them and decides when the model is calling one; once it is, node-llama-cpp constrains
 *   the arguments to the function's schema by grammar.
 * - `required` / a named function: no trigger is waited for. The answer is generated under
 *   a grammar built from the schema (one function: its arguments object; several: an
 *   object `{"name": <one of them>, "arguments": <its arguments>}`), so even a model that
 *   never saw a tool (stories260K) returns schema-valid arguments. One call per turn.
 * - `none`: the model gets no functions (earlier calls in the history still render).
 */
import type { ChatModelFunctions, GbnfJsonSchema } from "node-llama-cpp";
import type { ToolChoice, ToolSpec } from "../backend.js";
import { capRepeats } from "./schema-check.js";

const EMPTY_OBJECT = { type: "object", properties: {} } as const;

export function paramsOf(tool: ToolSpec): Readonly<Record<string, unknown>> {
  // Upper bounds past what llama.cpp's grammar holds are lowered (./schema-check.ts).
  return tool.parameters && Object.keys(tool.parameters).length > 0 ? capRepeats(stripAnnotations(tool.parameters)) : EMPTY_OBJECT;
}

/** OpenAI tools as node-llama-cpp functions (names are unique: the gateway checked). */
export function functionsOf(tools: readonly ToolSpec[]): ChatModelFunctions {
  // Defined, not assigned: a tool named "__proto__" (a valid OpenAI name) assigned as a key
  // became the object's prototype, and the model was silently never told of it.
  return Object.fromEntries(tools.map((t) => [t.name, { ...(t.description ? { description: t.description } : {}), params: paramsOf(t) as GbnfJsonSchema }]));
}

/** The tools a `required`/named choice lets the model pick from. */
export function forcedTools(tools: readonly ToolSpec[], choice: ToolChoice | undefined): readonly ToolSpec[] | null {
  if (choice === "required") return tools;
  if (typeof choice === "object") return tools.filter((t) => t.name === choice.name);
  return null;
}

/** The grammar's JSON schema for a forced call (see the file comment). */
export function forcedCallSchema(tools: readonly ToolSpec[]): Readonly<Record<string, unknown>> {
  const [only] = tools;
  if (tools.length === 1 && only) return paramsOf(only);
  return {
    oneOf: tools.map((t) => ({ type: "object", properties: { name: { const: t.name }, arguments: paramsOf(t) }, required: ["name", "arguments"] })),
  };
}

/**
 * Keys JSON-schema generators add (zod-to-json-schema, the AI SDK, LangChain) that carry
 * no constraint; node-llama-cpp's converter refuses some of them.
 */
function stripAnnotations(schema: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== "object") return v;
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === "$schema" || k === "title" || k === "examples" || k === "default" || k === "strict") continue;
      // `additionalProperties: false` is what the grammar does anyway (only listed keys).
      if (k === "additionalProperties" && x === false) continue;
      o[k] = k === "properties" && x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).map(([pk, pv]) => [pk, walk(pv)])) : walk(x);
    }
    return o;
  };
  return walk(schema) as Readonly<Record<string, unknown>>;
}

export interface ForcedCallEvent {
  readonly name?: string;
  readonly argumentsDelta: string;
}

/**
 * Splits the streamed text of a forced call into the function name and an incrementally
 * streamed arguments text. With one tool the whole text is the arguments. With several
 * the grammar writes `{"name":"…","arguments":{…}}` (keys in that order); the outer
 * closing brace is held back until the end, so the streamed arguments are exactly the
 * inner object.
 */
export function forcedCallParser(tools: readonly ToolSpec[]): { push(text: string): ForcedCallEvent[]; end(): ForcedCallEvent[] } {
  const [only] = tools;
  if (tools.length === 1 && only) {
    let named = false;
    const ev = (argumentsDelta: string): ForcedCallEvent[] => {
      if (named) return argumentsDelta ? [{ argumentsDelta }] : [];
      named = true;
      return [{ name: only.name, argumentsDelta }];
    };
    return { push: ev, end: () => ev("") };
  }
  const HEAD = /^\s*\{\s*"name"\s*:\s*"([A-Za-z0-9_-]+)"\s*,\s*"arguments"\s*:\s*/;
  let buf = "";
  let name: string | null = null;
  let sent = 0; // characters of `buf` (after the head) already sent as arguments
  const held = (s: string): number => {
    // Hold back a trailing "}" (maybe the wrapper's) and whitespace after it.
    const m = /\}\s*$/.exec(s);
    return m ? s.length - m.index : 0;
  };
  return {
    push(text) {
      buf += text;
      const out: ForcedCallEvent[] = [];
      if (name === null) {
        const m = HEAD.exec(buf);
        if (!m || m[1] === undefined) return out;
        name = m[1];
        buf = buf.slice(m[0].length);
        out.push({ name, argumentsDelta: "" });
      }
      const upto = buf.length - held(buf);
      if (upto > sent) out.push({ argumentsDelta: buf.slice(sent, upto) });
      sent = Math.max(sent, upto);
      return out;
    },
    end() {
      if (name === null) return [];
      const inner = buf.replace(/\}\s*$/, "").trimEnd();
      return inner.length > sent ? [{ argumentsDelta: inner.slice(sent) }] : [];
    },
  };
}

export function newToolCallId(): string {
  const b = new Uint8Array(18);
  crypto.getRandomValues(b);
  return `call_${Buffer.from(b).toString("base64url")}`;
}
