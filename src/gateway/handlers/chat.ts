import type { Handler } from "hono";
import { GatewayError } from "../../errors.js";
import type { ChatRequest, GenerationEvent, InferenceBackend, SamplingParams } from "../../inference/backend.js";
import type { GatewayEnv } from "../context.js";
import { runGeneration, type GenerationPlan } from "../generate.js";
import { runPassthrough, type Passthrough } from "../passthrough.js";
import { GatewayCode } from "../errors.js";
import { chatChunk, chatCompletion, chatUsageChunk, textChunk, textCompletion, textUsageChunk, toolCallDelta } from "../openai-format.js";
import { chatRequestSchema, completionRequestSchema, type ChatRequestBody, type CompletionRequestBody } from "../schemas.js";
import { jsonBody, onlyN1 } from "./parse.js";
import { refuseUnsupported, UNSUPPORTED } from "./unsupported.js";
import { trackUsage, type UsageProgress } from "./usage-progress.js";

function schemaOf(rf: ChatRequestBody["response_format"]): Readonly<Record<string, unknown>> | undefined {
  if (rf?.type === "json_schema") return rf.json_schema.schema;
  // json_object: an arbitrary JSON object, enforced by the same grammar path.
  if (rf?.type === "json_object") return { type: "object" };
  return undefined;
}

export function sampling(b: ChatRequestBody | CompletionRequestBody, jsonSchema?: Readonly<Record<string, unknown>>, topLogprobs?: number): Omit<SamplingParams, "signal"> {
  // max_completion_tokens is OpenAI's newer name; it wins when both are sent.
  const maxTokens = b.max_completion_tokens ?? b.max_tokens ?? undefined;
  const bias = b.logit_bias && Object.keys(b.logit_bias).length > 0 ? Object.fromEntries(Object.entries(b.logit_bias).map(([k, v]) => [Number(k), v])) : undefined;
  return {
    ...(b.frequency_penalty != null && b.frequency_penalty !== 0 ? { frequencyPenalty: b.frequency_penalty } : {}),
    ...(b.presence_penalty != null && b.presence_penalty !== 0 ? { presencePenalty: b.presence_penalty } : {}),
    ...(bias ? { logitBias: bias } : {}),
    ...(topLogprobs !== undefined ? { topLogprobs } : {}),
    ...(maxTokens != null ? { maxTokens } : {}),
    ...(b.temperature != null ? { temperature: b.temperature } : {}),
    ...(b.top_p != null ? { topP: b.top_p } : {}),
    ...(b.stop != null ? { stop: b.stop } : {}),
    ...(b.seed != null ? { seed: b.seed } : {}),
    ...(jsonSchema ? { jsonSchema } : {}),
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
    const meta: Meta = { id: c.get("requestId"), created: Math.floor(Date.now() / 1000), model: b.model };
    // Upstreams (vLLM, SGLang, ...) get the bytes unchanged and judge every parameter themselves.
    if (pt) {
      await c.get("meter").begin(b.model);
      return runPassthrough(c, pt, b.stream === true);
    }
    const { events, shapes } = plan(b, meta); // validates before the usage row opens
    await c.get("meter").begin(b.model);
    return runGeneration(c, {
      stream: b.stream === true,
      includeUsage: b.stream_options?.include_usage === true,
      start: (signal) => tracked(events(signal), meta.id, progress),
      shapes,
    });
  };
}

/** chat `logprobs: true` + `top_logprobs` (which needs logprobs) as one count, or undefined. */
function chatTopLogprobs(b: ChatRequestBody): number | undefined {
  if (b.logprobs === true) return b.top_logprobs ?? 0;
  if (b.top_logprobs != null) throw new GatewayError(400, GatewayCode.INVALID_PARAMS, "top_logprobs needs logprobs: true", { param: "top_logprobs" });
  return undefined;
}

/** The validated chat body as a backend request (shared with /v1/responses). */
export function chatRequestOf(b: ChatRequestBody): Omit<ChatRequest, "signal"> {
  refuseUnsupported(b, UNSUPPORTED.chat);
  const tools = (b.tools ?? []).map((t) => ({
    name: t.function.name,
    ...(t.function.description ? { description: t.function.description } : {}),
    ...(t.function.parameters ? { parameters: t.function.parameters } : {}),
  }));
  if (new Set(tools.map((t) => t.name)).size !== tools.length) throw new GatewayError(400, GatewayCode.INVALID_PARAMS, "tools: function names must be unique", { param: "tools" });
  const choice = b.tool_choice ?? undefined;
  if (typeof choice === "object" && !tools.some((t) => t.name === choice.name)) {
    throw new GatewayError(400, GatewayCode.INVALID_PARAMS, `tool_choice names "${choice.name}", which is not in tools`, { param: "tool_choice" });
  }
  if (choice === "required" && tools.length === 0) throw new GatewayError(400, GatewayCode.INVALID_PARAMS, 'tool_choice "required" needs tools', { param: "tool_choice" });
  return {
    model: b.model,
    messages: b.messages,
    ...(tools.length > 0 ? { tools } : {}),
    ...(choice !== undefined ? { toolChoice: choice } : {}),
    ...(b.parallel_tool_calls != null ? { parallelToolCalls: b.parallel_tool_calls } : {}),
    ...sampling(b, schemaOf(b.response_format), chatTopLogprobs(b)),
  };
}

/** `progress` records running usage so a stream cut off before `done` is metered by what was generated. */
export function chatHandler(backend: InferenceBackend, usePassthrough = true, progress?: UsageProgress): Handler<GatewayEnv> {
  return completionRoute((v) => chatRequestSchema.parse(v), backend, usePassthrough, progress, (b, meta) => {
    const req = chatRequestOf(b);
    return {
      events: (signal) => backend.chat({ ...req, signal }),
      shapes: {
        full: (text, finish, usage, extras) => chatCompletion(meta, text, finish, usage, extras),
        head: () => chatChunk(meta, { role: "assistant", content: "" }, null),
        delta: (text, logprobs) => chatChunk(meta, { content: text }, null, logprobs),
        toolDelta: (ev) => chatChunk(meta, toolCallDelta(ev), null),
        final: (finish) => chatChunk(meta, {}, finish),
        usage: (u) => chatUsageChunk(meta, u),
      },
    };
  });
}

export function completionsHandler(backend: InferenceBackend, usePassthrough = true, progress?: UsageProgress): Handler<GatewayEnv> {
  return completionRoute((v) => completionRequestSchema.parse(v), backend, usePassthrough, progress, (b, meta) => {
    refuseUnsupported(b, UNSUPPORTED.completions);
    return {
      events: (signal) => backend.complete({ model: b.model, prompt: b.prompt, ...sampling(b, undefined, b.logprobs ?? undefined), signal }),
      shapes: {
        full: (text, finish, usage, extras) => textCompletion(meta, text, finish, usage, extras),
        head: () => null,
        delta: (text, logprobs) => textChunk(meta, text, null, logprobs),
        final: (finish) => textChunk(meta, "", finish),
        usage: (u) => textUsageChunk(meta, u),
      },
    };
  });
}
