/**
 * Upstream pass-through: when the backend can forward a whole OpenAI request (vLLM,
 * SGLang, llama.cpp server, Ollama in the same TEE), the validated request bytes go up
 * unchanged and the upstream's bytes come back unchanged, streamed — no re-parsing and
 * re-serialising of every chunk. Signing (outside this handler) still hashes exactly the
 * bytes sent to the client. Usage is read from the upstream's `usage` when present, else
 * estimated as one token per content or tool-arguments chunk (true of vLLM, SGLang and llama.cpp server).
 */
import { GatewayError } from "../errors.js";
import { InferenceError } from "../errors.js";
import { InferenceCode, type InferenceBackend, type Usage } from "../inference/backend.js";
import type { GatewayContext } from "./context.js";
import { bodyBytes } from "./context.js";
import { errorBody, GatewayCode, nodeReasonOr } from "./errors.js";
import { utf8 } from "../util/bytes.js";
import { fetchedBody } from "./http-fetch.js";
import { stoppedStatus } from "./meter.js";
import { readPrefix } from "../inference/upstream/bounded-read.js";
import { bufferedResponse, streamedResponse, tapStream } from "./stream-tap.js";

const dec = new TextDecoder();
const ID_RE = /"id"\s*:\s*"([^"\\]{1,200})"/;
// A chunk carrying generated text: content, text, or a tool call's arguments (a required
// tool_choice answers with nothing else, so counting content alone metered it at 0).
const CONTENT_RE = /"(?:content|text|arguments)"\s*:\s*"[^"]/;

function usageOf(v: unknown): Usage | null {
  if (typeof v !== "object" || v === null || !("usage" in v)) return null;
  const u = (v as { usage: unknown }).usage;
  if (typeof u !== "object" || u === null) return null;
  const p = (u as Record<string, unknown>)["prompt_tokens"];
  const c = (u as Record<string, unknown>)["completion_tokens"];
  return typeof p === "number" && typeof c === "number" ? { promptTokens: p, completionTokens: c } : null;
}

/** Upstream statuses in our one error vocabulary (messages are ours: upstream ones may echo input). */
function upstreamFailure(status: number): Error {
  if (status === 404) return new InferenceError(InferenceCode.MODEL_NOT_FOUND, "the model is not served here");
  if (status === 400 || status === 422) return new GatewayError(400, GatewayCode.INVALID_PARAMS, "the inference server refused the request parameters");
  if (status === 413) return new GatewayError(413, GatewayCode.BODY_TOO_LARGE, "the inference server refused the request size");
  if (status === 429) return new InferenceError(InferenceCode.BACKEND_BUSY, "the inference server is busy; retry shortly");
  return new InferenceError(InferenceCode.BACKEND_UNAVAILABLE, `the inference server answered ${status}`);
}

export type Passthrough = NonNullable<InferenceBackend["passthrough"]>;

/** The most a whole (non-streamed) answer may hold when the upstream did not send it with a Content-Length the fetch buffered. */
export const WHOLE_BODY_LIMIT = 64 * 1024 * 1024;

/** The whole stream, or an error (and the upstream released) once it passes `limit`. */
async function readAtMost(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const { bytes, whole } = await readPrefix(body, limit);
  if (!whole) throw new InferenceError(InferenceCode.GENERATION_FAILED, `the inference server's answer is larger than ${limit} bytes`);
  return bytes;
}

export async function runPassthrough(c: GatewayContext, passthrough: Passthrough, stream: boolean): Promise<Response> {
  const requestBody = await bodyBytes(c);
  const res = await passthrough(c.req.path, requestBody, c.get("signal")).catch((err: unknown) => {
    throw nodeReasonOr(c.get("signal"), err);
  });
  // Bytes createHttpFetch already holds are used as they are: `res.body`,
  // `res.arrayBuffer()` and `res.headers` would each build Web objects around them again.
  const whole = fetchedBody(res);
  const upstreamBody = whole ? null : res.body;
  if (!res.ok || (!whole && !upstreamBody)) {
    await upstreamBody?.cancel().catch(() => undefined);
    throw upstreamFailure(res.status);
  }
  const meter = c.get("meter");
  const contentType = (whole ? whole.contentType : res.headers.get("content-type")) ?? (stream ? "text/event-stream" : "application/json");
  if (!upstreamBody || !stream || !contentType.startsWith("text/event-stream")) {
    const bytes =
      whole?.bytes ??
      (upstreamBody
        ? await readAtMost(upstreamBody, WHOLE_BODY_LIMIT).catch((err: unknown) => {
            throw nodeReasonOr(c.get("signal"), err);
          })
        : new Uint8Array());
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(dec.decode(bytes));
    } catch {
      throw new InferenceError(InferenceCode.GENERATION_FAILED, "the inference server sent a body that is not JSON");
    }
    await meter.end(usageOf(parsed), "ok");
    return bufferedResponse(bytes, { headers: { "content-type": "application/json" }, status: 200 });
  }

  let usage: Usage | null = null;
  let chunks = 0;
  let stopped = false;
  let carry = "";
  const streamDec = new TextDecoder();
  const body = tapStream(upstreamBody, {
    chunk(b) {
      const lines = (carry + streamDec.decode(b, { stream: true })).split("\n");
      carry = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("data:")) continue;
        if (CONTENT_RE.test(line)) chunks++, meter.progress(usage ?? { promptTokens: 0, completionTokens: chunks });
        if (line.includes('"usage"')) {
          try {
            usage = usageOf(JSON.parse(line.slice(5))) ?? usage;
          } catch {
            // not our business: the client gets the bytes as they came
          }
        }
      }
    },
    // Cut by the node's own time limit: the stream ends with the same request_timeout
    // error event a generated stream gets (../generate.ts), not a broken connection.
    recover: (err) => {
      const reason = nodeReasonOr(c.get("signal"), err);
      if (!(reason instanceof GatewayError)) return null;
      stopped = true;
      // The upstream's bytes go out as they came, so the cut may fall inside an event:
      // a blank line first ends it there (after a whole event it dispatches nothing), else
      // the client's parser glues the error onto it and parses neither.
      return utf8.encode(`\n\ndata: ${JSON.stringify(errorBody(reason))}\n\n`);
    },
    end: () => meter.end(usage ?? { promptTokens: 0, completionTokens: chunks }, stopped ? stoppedStatus(c.get("signal")) : "ok"),
    abort: () => void meter.end(usage ?? { promptTokens: 0, completionTokens: chunks }, stoppedStatus(c.get("signal"))),
  });
  return streamedResponse(body, { status: 200, headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" } });
}

/** The response's own `id` (first occurrence), so a signature can be found by it too. */
export function sniffId(firstBytes: Uint8Array): string | null {
  return ID_RE.exec(dec.decode(firstBytes.subarray(0, 512)))?.[1] ?? null;
}
