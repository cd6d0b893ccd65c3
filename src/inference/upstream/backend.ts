/**
 * Any OpenAI-compatible server in the same TEE (vLLM, SGLang, llama.cpp server, Ollama)
 * behind the InferenceBackend interface. Requests always stream upstream, so the first
 * token reaches the client as soon as the upstream sends it.
 */
import { InferenceError } from "../../errors.js";
import {
  InferenceCode,
  type ChatRequest,
  type CompletionRequest,
  type FinishReason,
  type GenerationEvent,
  type InferenceBackend,
  type ModelInfo,
  type SamplingParams,
} from "../backend.js";
import { readPrefix } from "./bounded-read.js";
import { fetchWithHeadersTimeout, isHeadersTimeout } from "./headers-timeout.js";
import { parseSse } from "./sse.js";
import { chatChunk, completionChunk, errorMessage, modelList } from "./wire.js";

/** RequestInit, plus a bound on the wait for the response headers (the body is not bounded by it). */
export interface HeadersTimeoutInit extends RequestInit {
  readonly headersTimeoutMs?: number;
}

/**
 * A fetch that honours `headersTimeoutMs` itself (src/gateway/http-fetch.ts: undici's
 * per-request headersTimeout), failing with a DOMException named "TimeoutError" when it
 * runs out. With one, the backend makes no timer, controller and abort listener of its own
 * per request (~20 µs of the node's CPU per completion, bench/chain.bench.ts).
 */
export type TimedFetch = ((input: string | URL | Request, init?: HeadersTimeoutInit) => Promise<Response>) & { readonly honoursHeadersTimeout: true };

function isTimedFetch(f: typeof fetch | TimedFetch): f is TimedFetch {
  return (f as Partial<TimedFetch>).honoursHeadersTimeout === true;
}

export interface UpstreamBackendOptions {
  /** e.g. `http://127.0.0.1:8000` or `http://127.0.0.1:8000/v1`. */
  readonly baseURL: string;
  readonly apiKey?: string;
  readonly fetch?: typeof fetch | TimedFetch;
  /**
   * Longest wait for the upstream's response headers (default 60 s); streaming is not cut.
   * Through a TimedFetch (createHttpFetch) it holds to within a second: undici keeps such
   * timers on a coarse clock (its fast timers).
   */
  readonly timeoutMs?: number;
}

export function createUpstreamBackend(options: UpstreamBackendOptions): InferenceBackend {
  const root = options.baseURL.replace(/\/+$/, "").replace(/\/v1$/, "");
  const given = options.fetch ?? fetch;
  const timed = isTimedFetch(given) ? given : null;
  const doFetch = given as typeof fetch;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const headers = (): Record<string, string> => ({
    "content-type": "application/json",
    accept: "text/event-stream, application/json",
    ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
  });
  const failed = (cause: unknown, signal: AbortSignal | undefined, timedOut: boolean): InferenceError => {
    if (signal?.aborted) return new InferenceError(InferenceCode.CANCELLED, "the request was cancelled by the client", { cause });
    const why = timedOut ? `no answer within ${timeoutMs} ms` : "connection failed";
    return new InferenceError(InferenceCode.BACKEND_UNAVAILABLE, `the upstream inference server at ${root} is unreachable (${why})`, { cause });
  };

  async function send(path: string, init: { method: string; body?: BodyInit }, signal?: AbortSignal): Promise<Response> {
    const url = `${root}${path}`;
    const req = { ...init, headers: headers(), ...(signal ? { signal } : {}) };
    // The timeout covers the wait for the headers only; a long generation is fine.
    try {
      return await (timed ? timed(url, { ...req, headersTimeoutMs: timeoutMs }) : fetchWithHeadersTimeout(doFetch, url, req, timeoutMs));
    } catch (cause) {
      throw failed(cause, signal, isHeadersTimeout(cause));
    }
  }


  /** A /v1/models body (null: cut at MODEL_LIST_BYTES) as model infos. */
  function toModels(bytes: Uint8Array | null): readonly ModelInfo[] {
    let json: unknown = null;
    try {
      json = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null;
    } catch {
      json = null;
    }
    const parsed = modelList.safeParse(json);
    if (!parsed.success) throw new InferenceError(InferenceCode.BACKEND_UNAVAILABLE, `the upstream at ${root} answered /v1/models with something that is not a model list`);
    return parsed.data.data.map((m) => ({ id: m.id, ownedBy: m.owned_by ?? "upstream", created: m.created ?? 0, ...(m.max_model_len !== undefined ? { maxModelLen: m.max_model_len } : {}) }));
  }

  async function* stream(path: "/v1/chat/completions" | "/v1/completions", body: Record<string, unknown>, req: SamplingParams & { model: string }): AsyncGenerator<GenerationEvent> {
    const res = await send(path, { method: "POST", body: JSON.stringify(body) }, req.signal);
    if (!res.ok || !res.body) throw await upstreamError(res, req.model);
    let finishReason: FinishReason = "stop";
    let usage: { promptTokens: number; completionTokens: number } | null = null;
    let chunks = 0;
    try {
      for await (const data of parseSse(res.body)) {
        // Events already buffered when the client left are dropped, not delivered.
        if (req.signal?.aborted) throw new InferenceError(InferenceCode.CANCELLED, "the request was cancelled by the client");
        if (data.trim() === "[DONE]") break;
        const json: unknown = JSON.parse(data);
        const err = errorMessage(json);
        if (err !== undefined) throw new InferenceError(InferenceCode.GENERATION_FAILED, `upstream failed mid-stream: ${err}`);
        const chunk = path === "/v1/chat/completions" ? chatChunk.parse(json) : completionChunk.parse(json);
        for (const choice of chunk.choices) {
          const text = "delta" in choice ? choice.delta?.content : "text" in choice ? choice.text : undefined;
          if (text) {
            chunks++;
            yield { type: "delta", text };
          }
          if (choice.finish_reason) finishReason = choice.finish_reason === "length" ? "length" : "stop";
        }
        if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
      }
    } catch (err) {
      if (req.signal?.aborted) throw new InferenceError(InferenceCode.CANCELLED, "the request was cancelled by the client", { cause: err });
      if (err instanceof InferenceError) throw err;
      throw new InferenceError(InferenceCode.GENERATION_FAILED, "the upstream stream broke off or was malformed", { cause: err });
    }
    // Servers without stream_options support: one chunk is one token on vLLM, SGLang and
    // llama.cpp server; the prompt is estimated at 4 characters a token.
    yield { type: "done", finishReason, usage: usage ?? { promptTokens: estimatePrompt(body), completionTokens: chunks } };
  }

  return {
    kind: "upstream",
    async listModels(): Promise<readonly ModelInfo[]> {
      // The whole call, body included, is bounded in time and size: nothing waits on it
      // being answered, and a body that never ends must not hold the caller (or memory).
      const limit = AbortSignal.timeout(timeoutMs);
      try {
        const res = await send("/v1/models", { method: "GET" }, limit);
        if (!res.ok) throw await upstreamError(res, "");
        const { bytes, whole } = await readPrefix(res.body, MODEL_LIST_BYTES);
        return toModels(whole ? bytes : null);
      } catch (err) {
        if (limit.aborted) throw new InferenceError(InferenceCode.BACKEND_UNAVAILABLE, `the upstream at ${root} gave no model list within ${timeoutMs} ms`, { cause: err });
        throw err;
      }
    },
    chat(req: ChatRequest) {
      // With pass-through on (the default) the gateway forwards tools and logprobs byte for
      // byte; this re-encoding path carries text only, so it refuses rather than drops them.
      const dropped = req.tools?.length ? "tools" : req.messages.some((m) => m.role === "tool" || m.toolCalls) ? "messages" : req.topLogprobs !== undefined ? "logprobs" : req.logitBias ? "logit_bias" : null;
      if (dropped) throw new InferenceError(InferenceCode.UNSUPPORTED_PARAM, `${dropped} need the node's pass-through to the inference server (on by default)`, { details: { param: dropped } });
      return stream("/v1/chat/completions", { ...common(req), messages: req.messages }, req);
    },
    complete(req: CompletionRequest) {
      return stream("/v1/completions", { ...common(req), prompt: req.prompt }, req);
    },
    async passthrough(path: string, body: Uint8Array, signal: AbortSignal): Promise<Response> {
      if (!path.startsWith("/v1/")) throw new InferenceError(InferenceCode.GENERATION_FAILED, `refusing to forward ${path}: only /v1/ routes go upstream`);
      // slice(): a copy over a plain ArrayBuffer, which is what fetch accepts as a body.
      return send(path, { method: "POST", body: body.slice() }, signal);
    },
    async close(): Promise<void> {},
  };
}

function common(req: SamplingParams & { model: string }): Record<string, unknown> {
  const body: Record<string, unknown> = { model: req.model, stream: true, stream_options: { include_usage: true } };
  if (req.maxTokens !== undefined) body["max_tokens"] = req.maxTokens;
  if (req.temperature !== undefined) body["temperature"] = req.temperature;
  if (req.topP !== undefined) body["top_p"] = req.topP;
  if (req.stop && req.stop.length > 0) body["stop"] = req.stop;
  if (req.seed !== undefined) body["seed"] = req.seed;
  if (req.frequencyPenalty !== undefined) body["frequency_penalty"] = req.frequencyPenalty;
  if (req.presencePenalty !== undefined) body["presence_penalty"] = req.presencePenalty;
  if (req.jsonSchema) body["response_format"] = { type: "json_schema", json_schema: { name: "response", schema: req.jsonSchema, strict: true } };
  return body;
}

function estimatePrompt(body: Record<string, unknown>): number {
  const text = typeof body["prompt"] === "string" ? body["prompt"] : JSON.stringify(body["messages"] ?? "");
  return Math.ceil(text.length / 4);
}

/** Maps an upstream HTTP failure to our codes; the upstream's own words go in the message. */
/** What an error body may cost us to read: only its first 300 characters are used. */
const ERROR_BODY_BYTES = 64 * 1024;
/** A model list longer than this is not one a gateway should hold. */
const MODEL_LIST_BYTES = 8 * 1024 * 1024;

async function upstreamError(res: Response, model: string): Promise<InferenceError> {
  const text = await readPrefix(res.body, ERROR_BODY_BYTES).then(
    (r) => new TextDecoder().decode(r.bytes),
    () => "",
  );
  let said: string | undefined;
  try {
    said = errorMessage(JSON.parse(text));
  } catch {
    said = undefined;
  }
  const detail = (said ?? text).slice(0, 300);
  const details = { status: res.status };
  if (res.status === 404) return new InferenceError(InferenceCode.MODEL_NOT_FOUND, `model "${model}" is not served by the upstream: ${detail}`, { details });
  if (res.status === 429) return new InferenceError(InferenceCode.BACKEND_BUSY, `the upstream is busy: ${detail}`, { details });
  if (res.status >= 500) return new InferenceError(InferenceCode.BACKEND_UNAVAILABLE, `the upstream failed with HTTP ${res.status}: ${detail}`, { details });
  if (/context length|maximum context|too long/i.test(detail)) return new InferenceError(InferenceCode.CONTEXT_OVERFLOW, detail, { details });
  return new InferenceError(InferenceCode.GENERATION_FAILED, `the upstream rejected the request (HTTP ${res.status}): ${detail}`, { details });
}
