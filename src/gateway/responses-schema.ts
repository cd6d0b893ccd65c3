/**
 * POST /v1/responses, the stateless subset (https://platform.openai.com/docs/api-reference/responses/create):
 * `input` as text or items (messages, function_call, function_call_output), `instructions`,
 * function `tools`, `tool_choice`, `text.format`, `max_output_tokens`, sampling, `stream`.
 * A request is translated into the chat body it means and goes through the chat checks,
 * so both routes refuse and accept the same things. Server-side state
 * (`previous_response_id`, `conversation`, `background`) is refused by name.
 */
import { z } from "zod/v4";

const text = z.string();
const inputPart = z.object({ type: z.enum(["input_text", "output_text", "text"]), text }).loose();
const messageContent = z.union([text, z.array(inputPart).min(1)]).transform((c) => (typeof c === "string" ? c : c.map((p) => p.text).join("")));

const messageItem = z.object({ type: z.literal("message").optional(), role: z.enum(["user", "system", "developer", "assistant"]), content: messageContent }).loose();
const functionCallItem = z.object({ type: z.literal("function_call"), call_id: z.string().min(1).max(256), name: z.string().min(1).max(256), arguments: z.string(), id: z.string().optional() }).loose();
const functionOutputItem = z
  .object({ type: z.literal("function_call_output"), call_id: z.string().min(1).max(256), output: z.union([text, z.array(inputPart)]).transform((o) => (typeof o === "string" ? o : o.map((p) => p.text).join(""))) })
  .loose();
const item = z.union([functionCallItem, functionOutputItem, messageItem]);

// The chat checks of a tool, here too: an error must name the Responses field
// (tools.0.name), not the chat body the request is translated into (tools.0.function.name).
const functionTool = z.object({
  type: z.literal("function"),
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "function names are 1-64 letters, digits, _ or -"),
  description: z.string().max(8192).nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

const format = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({ type: z.literal("json_schema"), name: z.string().optional(), schema: z.record(z.string(), z.unknown()), strict: z.boolean().nullish(), description: z.string().nullish() }),
]);

/** A function_call_output answers a function_call earlier in `input` (chat's rule for tool messages, named by the Responses path). */
function outputsAnswerCalls(b: { readonly input: string | readonly z.infer<typeof item>[] }, ctx: z.RefinementCtx): void {
  if (typeof b.input === "string") return;
  const made = new Set<string>();
  b.input.forEach((it, i) => {
    if (it.type === "function_call") made.add(it.call_id);
    else if (it.type === "function_call_output" && !made.has(it.call_id)) ctx.addIssue({ code: "custom", path: ["input", i, "call_id"], message: "a function_call_output must answer a function_call made earlier in input" });
  });
}

export const responsesRequestSchema = z
  .object({
    model: z.string().min(1),
    input: z.union([text, z.array(item).min(1)]),
    instructions: z.string().nullish(),
    tools: z.array(functionTool).max(128).nullish(),
    tool_choice: z.union([z.enum(["auto", "none", "required"]), z.object({ type: z.literal("function"), name: z.string().min(1) })]).nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    text: z.object({ format: format.nullish() }).loose().nullish(),
    max_output_tokens: z.number().int().positive().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().gt(0).max(1).nullish(),
    stream: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    // What the answer also carries; only the output text's logprobs are served (RESPONSES_UNSUPPORTED).
    include: z.array(z.string()).nullish(),
  })
  .loose()
  .superRefine(outputsAnswerCalls);

export type ResponsesRequestBody = z.infer<typeof responsesRequestSchema>;

/** The `include` value that asks for the output text's logprobs (with `top_logprobs` alternatives each). */
export const INCLUDE_LOGPROBS = "message.output_text.logprobs";

/** True when the answer is to carry logprobs: asked for by `include`, as OpenAI does (`top_logprobs` alone returns none). */
export function wantsLogprobs(b: ResponsesRequestBody): boolean {
  return b.include?.includes(INCLUDE_LOGPROBS) === true;
}

/** The chat completions body a Responses request means (validated again by the chat schema). */
export function toChatBody(b: ResponsesRequestBody): Record<string, unknown> {
  const messages: Record<string, unknown>[] = [];
  if (b.instructions) messages.push({ role: "system", content: b.instructions });
  if (typeof b.input === "string") messages.push({ role: "user", content: b.input });
  else {
    for (const it of b.input) {
      if ("call_id" in it && it.type === "function_call") {
        const call = { id: it.call_id, type: "function", function: { name: it.name, arguments: it.arguments } };
        // Consecutive calls are one assistant turn (parallel calls), as chat expects.
        const last = messages[messages.length - 1];
        if (last && last["role"] === "assistant" && Array.isArray(last["tool_calls"])) (last["tool_calls"] as unknown[]).push(call);
        else messages.push({ role: "assistant", content: null, tool_calls: [call] });
      } else if ("call_id" in it && it.type === "function_call_output") messages.push({ role: "tool", tool_call_id: it.call_id, content: it.output });
      else if ("role" in it) messages.push({ role: it.role, content: it.content });
    }
  }
  const f = b.text?.format;
  const response_format = f?.type === "json_schema" ? { type: "json_schema", json_schema: { name: f.name ?? "response", schema: f.schema, strict: f.strict ?? null } } : f?.type === "json_object" ? { type: "json_object" } : undefined;
  const tc = b.tool_choice;
  return {
    model: b.model,
    messages,
    ...(b.tools?.length ? { tools: b.tools.map((t) => ({ type: "function", function: { name: t.name, description: t.description ?? null, parameters: t.parameters ?? null } })) } : {}),
    ...(tc ? { tool_choice: typeof tc === "string" ? tc : { type: "function", function: { name: tc.name } } } : {}),
    ...(b.parallel_tool_calls != null ? { parallel_tool_calls: b.parallel_tool_calls } : {}),
    ...(response_format ? { response_format } : {}),
    ...(b.max_output_tokens != null ? { max_completion_tokens: b.max_output_tokens } : {}),
    ...(b.temperature != null ? { temperature: b.temperature } : {}),
    ...(b.top_p != null ? { top_p: b.top_p } : {}),
    // Without the include, OpenAI returns no logprobs whatever top_logprobs says: neither
    // is the slower logprobs generation run here (nor tools refused for it).
    ...(wantsLogprobs(b) ? { logprobs: true, top_logprobs: b.top_logprobs ?? 0 } : {}),
  };
}

/** Parameters that need server-side state or features this node does not have. */
export const RESPONSES_UNSUPPORTED = {
  previous_response_id: (v: unknown) => v === null || v === undefined,
  conversation: (v: unknown) => v === null || v === undefined,
  background: (v: unknown) => v === null || v === undefined || v === false,
  prompt: (v: unknown) => v === null || v === undefined,
  reasoning: (v: unknown) => v === null || v === undefined || (typeof v === "object" && Object.values(v).every((x) => x === null || x === undefined)),
  include: (v: unknown) => v === null || v === undefined || (Array.isArray(v) && v.every((x) => x === INCLUDE_LOGPROBS)),
  // A limit the backends do not enforce: ignoring it could answer with more calls than allowed.
  max_tool_calls: (v: unknown) => v === null || v === undefined,
  // As on chat completions: no other tier is served.
  service_tier: (v: unknown) => v === null || v === undefined || v === "auto" || v === "default",
} as const;

/** Hosted tools (web_search, file_search, mcp, ...) are features this node does not have: refused by name, before the schema calls them malformed. */
export function hostedTool(raw: Readonly<Record<string, unknown>>): boolean {
  const tools = raw["tools"];
  return Array.isArray(tools) && tools.some((t: unknown) => typeof t === "object" && t !== null && typeof (t as Record<string, unknown>)["type"] === "string" && (t as Record<string, unknown>)["type"] !== "function");
}
