import type { Handler } from "hono";
import type { GenerationEvent, InferenceBackend, SamplingParams } from "../../inference/backend.js";
import type { GatewayEnv } from "../context.js";
import { runGeneration, type GenerationPlan } from "../generate.js";
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

interface Meta {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

interface CompletionLike {
  readonly model: string;
  readonly n?: number | null | undefined;
  readonly stream?: boolean | null | undefined;
  readonly stream_options?: { readonly include_usage?: boolean | null | undefined } | null | undefined;
}

/**
 * The shared path of both completion routes: parse, check n, open the usage row, then
 * either forward the bytes to an upstream or generate and shape the answer.
 */
function completionRoute<B extends CompletionLike>(
  parse: (body: unknown) => B,
  backend: InferenceBackend,
  usePassthrough: boolean,
  progress: UsageProgress | undefined,
  plan: (b: B, meta: Meta) => Pick<GenerationPlan, "shapes"> & { events: (signal: AbortSignal) => AsyncIterable<GenerationEvent> },
): Handler<GatewayEnv> {
  const pt = passthroughOf(backend, usePassthrough);
  return async (c) => {
    const b = parse(await jsonBody(c));
    onlyN1(b.n);
    await c.var.meter.begin(b.model);
    if (pt) return runPassthrough(c, pt, b.stream === true);
    const meta: Meta = { id: c.var.requestId, created: Math.floor(Date.now() / 1000), model: b.model };
    const { events, shapes } = plan(b, meta);
    return runGeneration(c, {
      stream: b.stream === true,
      includeUsage: b.stream_options?.include_usage === true,
      start: (signal) => tracked(events(signal), meta.id, progress),
      shapes,
    });
  };
}

/** `progress` records running usage so a stream cut off before `done` is metered by what was generated. */
export function chatHandler(backend: InferenceBackend, usePassthrough = true, progress?: UsageProgress): Handler<GatewayEnv> {
  return completionRoute((v) => chatRequestSchema.parse(v), backend, usePassthrough, progress, (b, meta) => ({
    events: (signal) => backend.chat({ model: b.model, messages: b.messages, ...sampling(b, signal, schemaOf(b.response_format)) }),
    shapes: {
      full: (text, finish, usage) => chatCompletion(meta, text, finish, usage),
      head: () => chatChunk(meta, { role: "assistant", content: "" }, null),
      delta: (text) => chatChunk(meta, { content: text }, null),
      final: (finish) => chatChunk(meta, {}, finish),
      usage: (u) => chatUsageChunk(meta, u),
    },
  }));
}

export function completionsHandler(backend: InferenceBackend, usePassthrough = true, progress?: UsageProgress): Handler<GatewayEnv> {
  return completionRoute((v) => completionRequestSchema.parse(v), backend, usePassthrough, progress, (b, meta) => ({
    events: (signal) => backend.complete({ model: b.model, prompt: b.prompt, ...sampling(b, signal) }),
    shapes: {
      full: (text, finish, usage) => textCompletion(meta, text, finish, usage),
      head: () => null,
      delta: (text) => textChunk(meta, text, null),
      final: (finish) => textChunk(meta, "", finish),
      usage: (u) => textUsageChunk(meta, u),
    },
  }));
}
