import type { Handler } from "hono";
import type { GenerationEvent, InferenceBackend, SamplingParams } from "../../inference/backend.js";
import type { GatewayEnv } from "../context.js";
import { runGeneration } from "../generate.js";
import { runPassthrough, type Passthrough } from "../passthrough.js";
import { chatChunk, chatCompletion, chatUsageChunk, textChunk, textCompletion, textUsageChunk } from "../openai-format.js";
import { chatRequestSchema, completionRequestSchema, type ChatRequestBody, type CompletionRequestBody } from "../schemas.js";
import { jsonBody, onlyN1 } from "./parse.js";
import { trackUsage, type UsageProgress } from "./usage-progress.js";

function schemaOf(rf: ChatRequestBody["response_format"]): Readonly<Record<string, unknown>> | undefined {
  if (rf?.type === "json_schema") return rf.json_schema.schema;
  // json_object: an arbitrary JSON object, enforced by the same grammar path.
  if (rf?.type === "json_object") return { type: "object" };
  return undefined;
}

function sampling(b: ChatRequestBody | CompletionRequestBody, signal: AbortSignal, jsonSchema?: Readonly<Record<string, unknown>>): SamplingParams {
  // max_completion_tokens is OpenAI's newer name; it wins when both are sent.
  const maxTokens = b.max_completion_tokens ?? b.max_tokens ?? undefined;
  return {
    ...(maxTokens != null ? { maxTokens } : {}),
    ...(b.temperature != null ? { temperature: b.temperature } : {}),
    ...(b.top_p != null ? { topP: b.top_p } : {}),
    ...(b.stop != null ? { stop: b.stop } : {}),
    ...(b.seed != null ? { seed: b.seed } : {}),
    ...(jsonSchema ? { jsonSchema } : {}),
    signal,
  };
}

function tracked(events: AsyncIterable<GenerationEvent>, requestId: string, progress: UsageProgress | undefined): AsyncIterable<GenerationEvent> {
  return progress ? trackUsage(events, requestId, progress) : events;
}

/** The backend's pass-through, when it has one and the node wants it. */
function passthroughOf(backend: InferenceBackend, enabled: boolean): Passthrough | null {
  const pt = backend.passthrough;
  return enabled && pt ? (path, body, signal) => pt.call(backend, path, body, signal) : null;
}

/** `progress` records running usage so a stream cut off before `done` is metered by what was generated. */
export function chatHandler(backend: InferenceBackend, usePassthrough = true, progress?: UsageProgress): Handler<GatewayEnv> {
  const pt = passthroughOf(backend, usePassthrough);
  return async (c) => {
    const b = chatRequestSchema.parse(await jsonBody(c));
    onlyN1(b.n);
    await c.var.meter.begin(b.model);
    if (pt) return runPassthrough(c, pt, b.stream === true);
    const meta = { id: c.var.requestId, created: Math.floor(Date.now() / 1000), model: b.model };
    return runGeneration(c, {
      stream: b.stream === true,
      includeUsage: b.stream_options?.include_usage === true,
      start: (signal) => tracked(backend.chat({ model: b.model, messages: b.messages, ...sampling(b, signal, schemaOf(b.response_format)) }), meta.id, progress),
      shapes: {
        full: (text, finish, usage) => chatCompletion(meta, text, finish, usage),
        head: () => chatChunk(meta, { role: "assistant", content: "" }, null),
        delta: (text) => chatChunk(meta, { content: text }, null),
        final: (finish) => chatChunk(meta, {}, finish),
        usage: (u) => chatUsageChunk(meta, u),
      },
    });
  };
}

export function completionsHandler(backend: InferenceBackend, usePassthrough = true, progress?: UsageProgress): Handler<GatewayEnv> {
  const pt = passthroughOf(backend, usePassthrough);
  return async (c) => {
    const b = completionRequestSchema.parse(await jsonBody(c));
    onlyN1(b.n);
    await c.var.meter.begin(b.model);
    if (pt) return runPassthrough(c, pt, b.stream === true);
    const meta = { id: c.var.requestId, created: Math.floor(Date.now() / 1000), model: b.model };
    return runGeneration(c, {
      stream: b.stream === true,
      includeUsage: b.stream_options?.include_usage === true,
      start: (signal) => tracked(backend.complete({ model: b.model, prompt: b.prompt, ...sampling(b, signal) }), meta.id, progress),
      shapes: {
        full: (text, finish, usage) => textCompletion(meta, text, finish, usage),
        head: () => null,
        delta: (text) => textChunk(meta, text, null),
        final: (finish) => textChunk(meta, "", finish),
        usage: (u) => textUsageChunk(meta, u),
      },
    });
  };
}
