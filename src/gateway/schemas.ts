/**
 * OpenAI request bodies, parsed at the boundary with zod. Unknown fields pass (clients
 * send `user`, `metadata`, ...) but the ones we act on are checked strictly; `n` other
 * than 1 and the parameters in ./handlers/unsupported.ts are refused rather than
 * silently ignored.
 */
import { z } from "zod/v4";
import type { ChatMessage } from "../inference/backend.js";

const textPart = z.object({ type: z.literal("text"), text: z.string() });
const content = z.union([z.string(), z.array(textPart).min(1)]).transform((c) => (typeof c === "string" ? c : c.map((p) => p.text).join("")));

const toolCallSchema = z.object({
  id: z.string().min(1).max(256),
  type: z.literal("function").optional(),
  function: z.object({ name: z.string().min(1).max(256), arguments: z.string() }),
});

// One schema per role (https://platform.openai.com/docs/api-reference/chat/create#messages):
// an assistant turn may be only tool calls (content null), a tool turn answers one call.
export const chatMessageSchema = z
  .discriminatedUnion("role", [
    // "developer" is OpenAI's newer name for system.
    z.object({ role: z.enum(["system", "developer", "user"]), content }),
    z.object({ role: z.literal("assistant"), content: content.nullish(), tool_calls: z.array(toolCallSchema).max(128).nullish() }),
    z.object({ role: z.literal("tool"), content, tool_call_id: z.string().min(1).max(256) }),
  ])
  .transform((m): ChatMessage => {
    if (m.role === "tool") return { role: "tool", content: m.content, toolCallId: m.tool_call_id };
    if (m.role === "assistant") {
      const calls = (m.tool_calls ?? []).map((t) => ({ id: t.id, name: t.function.name, arguments: t.function.arguments }));
      return calls.length > 0 ? { role: "assistant", content: m.content ?? "", toolCalls: calls } : { role: "assistant", content: m.content ?? "" };
    }
    return { role: m.role === "developer" ? "system" : m.role, content: m.content };
  });

/** OpenAI's rule: a `tool` message must answer a tool call made earlier in the history. */
function toolResultsAnswerCalls(messages: readonly ChatMessage[], ctx: z.RefinementCtx): void {
  const made = new Set<string>();
  messages.forEach((m, i) => {
    for (const c of m.toolCalls ?? []) made.add(c.id);
    if (m.role === "tool" && (m.toolCallId === undefined || !made.has(m.toolCallId))) {
      ctx.addIssue({ code: "custom", path: [i, "tool_call_id"], message: "a tool message must answer a tool call made by an earlier assistant message" });
    }
  });
}

const jsonSchemaObject = z.record(z.string(), z.unknown());

export const toolSchema = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "function names are 1-64 letters, digits, _ or -"),
    description: z.string().max(8192).nullish(),
    parameters: jsonSchemaObject.nullish(),
    strict: z.boolean().nullish(),
  }),
});

export const toolChoiceSchema = z.union([
  z.enum(["auto", "none", "required"]),
  z.object({ type: z.literal("function"), function: z.object({ name: z.string().min(1) }) }).transform((t) => ({ name: t.function.name })),
]);

/** OpenAI's penalties and logit_bias (token id as a decimal string -> -100..100). */
const penalties = {
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: z
    .record(z.string().regex(/^\d{1,9}$/, "logit_bias keys are token ids"), z.number().min(-100).max(100))
    .refine((r) => Object.keys(r).length <= 1024, "at most 1024 logit_bias entries")
    .nullish(),
};

const stop = z.union([z.string(), z.array(z.string()).max(4)]).transform((s) => (typeof s === "string" ? [s] : s));

const sampling = {
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  stop: stop.nullish(),
  seed: z.number().int().nullish(),
  n: z.number().int().positive().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).loose().nullish(),
};

const responseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({ name: z.string().optional(), schema: z.record(z.string(), z.unknown()), strict: z.boolean().nullish() }).loose(),
  }),
]);

export const chatRequestSchema = z
  .object({
    model: z.string().min(1),
    messages: z.array(chatMessageSchema).min(1).superRefine(toolResultsAnswerCalls),
    response_format: responseFormat.nullish(),
    tools: z.array(toolSchema).max(128).nullish(),
    tool_choice: toolChoiceSchema.nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    ...penalties,
    ...sampling,
  })
  .loose();

export const completionRequestSchema = z
  .object({
    model: z.string().min(1),
    prompt: z.union([z.string(), z.array(z.string()).length(1)]).transform((p) => (typeof p === "string" ? p : p[0] ?? "")),
    // Legacy completions: logprobs is the number of alternatives (OpenAI allows 0..5; we allow 20 like chat).
    logprobs: z.number().int().min(0).max(20).nullish(),
    ...penalties,
    ...sampling,
  })
  .loose();

export const embeddingRequestSchema = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(z.string()).min(1).max(2048)]).transform((i) => (typeof i === "string" ? [i] : i)),
    encoding_format: z.enum(["float", "base64"]).nullish(),
    dimensions: z.number().int().positive().nullish(),
  })
  .loose();

export type ChatRequestBody = z.infer<typeof chatRequestSchema>;
export type CompletionRequestBody = z.infer<typeof completionRequestSchema>;
export type EmbeddingRequestBody = z.infer<typeof embeddingRequestSchema>;
