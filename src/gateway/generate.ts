/**
 * Runs one generation for chat or text completions and shapes it as a JSON body or an
 * SSE stream. The first backend event is awaited before any status is sent, so an
 * unknown model or an unavailable backend still gets its proper HTTP status; a failure
 * after the stream has started is sent as a final `data: {"error":…}` event.
 */
import { GatewayError } from "../errors.js";
import type { FinishReason, GenerationEvent, TokenLogprob, ToolCall, Usage } from "../inference/backend.js";
import type { GatewayContext } from "./context.js";
import { errorBody, GatewayCode, nodeReasonOr, toGatewayError, type OpenAIErrorBody } from "./errors.js";
import { stoppedStatus } from "./meter.js";
import { bufferedResponse } from "./stream-tap.js";

/** What a whole (non-streamed) answer holds besides its text. */
export interface AnswerExtras {
  readonly toolCalls: readonly ToolCall[];
  /** Null unless the backend reported logprobs (only when asked for). */
  readonly logprobs: readonly TokenLogprob[] | null;
}

export type ToolCallDelta = Extract<GenerationEvent, { type: "tool_call" }>;

export interface ResponseShapes {
  full(text: string, finish: FinishReason, usage: Usage, extras: AnswerExtras): unknown;
  /** Sent before the first delta (chat: the assistant role), or null. */
  head(): unknown | null;
  delta(text: string, logprobs: readonly TokenLogprob[] | undefined): unknown;
  /** A piece of a tool call; routes without tools never see one. */
  toolDelta?(ev: ToolCallDelta): unknown;
  final(finish: FinishReason, usage: Usage): unknown;
  usage(usage: Usage): unknown;
  /** The stream's last bytes; default `data: [DONE]` (the Responses API sends none). */
  readonly terminator?: Uint8Array | null;
  /** A failure after the stream started; default `data: {"error": …}`. */
  error?(body: OpenAIErrorBody): unknown;
}

export interface GenerationPlan {
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly start: (signal: AbortSignal) => AsyncIterable<GenerationEvent>;
  readonly shapes: ResponseShapes;
}

const utf8 = new TextEncoder();
const JSON_HEADERS = { "content-type": "application/json" } as const;
const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" } as const;
const enc = new TextEncoder();
/** One `data:` event per object; shapes that name their events (Responses API) hand over bytes. */
const sse = (obj: unknown): Uint8Array => (obj instanceof Uint8Array ? obj : enc.encode(`data: ${JSON.stringify(obj)}\n\n`));
const DONE = enc.encode("data: [DONE]\n\n");

export async function runGeneration(c: GatewayContext, plan: GenerationPlan): Promise<Response> {
  const stop = new AbortController();
  const signal = AbortSignal.any([c.get("signal"), stop.signal]);
  const it = plan.start(signal)[Symbol.asyncIterator]();
  const meter = c.get("meter");
  // Backends release their slot in the generator's `finally`: a consumer that stops at
  // the `done` event must close the iterator, exactly as `for await … break` would.
  const release = async (): Promise<void> => {
    await it.return?.(undefined).catch(() => undefined);
  };
  const first = await it.next().catch((err: unknown) => {
    throw nodeReasonOr(signal, err);
  });

  if (!plan.stream) {
    let text = "";
    const calls: { id: string; name: string; arguments: string }[] = [];
    let logprobs: TokenLogprob[] | null = null;
    try {
      for (let ev = first; ; ev = await it.next()) {
        if (ev.done) throw new GatewayError(500, "GENERATION_FAILED", "the backend ended without a result");
        const v = ev.value;
        if (v.type === "delta") {
          text += v.text;
          if (v.logprobs) (logprobs ??= []).push(...v.logprobs);
        } else if (v.type === "tool_call") {
          const call = (calls[v.index] ??= { id: v.id ?? "", name: v.name ?? "", arguments: "" });
          call.arguments += v.argumentsDelta;
        } else {
          await release();
          await meter.end(v.usage, "ok");
          const extras: AnswerExtras = { toolCalls: calls.filter((x) => x !== undefined), logprobs };
          return bufferedResponse(utf8.encode(JSON.stringify(plan.shapes.full(text, v.finishReason, v.usage, extras))), { headers: JSON_HEADERS });
        }
      }
    } catch (err) {
      // The node's own reasons to stop (time limit: 408 request_timeout; shutdown) win over
      // the backend's generic "cancelled".
      throw nodeReasonOr(signal, err);
    }
  }

  let pending: IteratorResult<GenerationEvent> | null = first;
  let headSent = false;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        try {
          if (!headSent) {
            headSent = true;
            const head = plan.shapes.head();
            if (head !== null) return ctrl.enqueue(sse(head));
          }
          for (;;) {
            const ev: IteratorResult<GenerationEvent> = pending ?? (await it.next());
            pending = null;
            if (ev.done) throw new GatewayError(500, "GENERATION_FAILED", "the backend ended without a result");
            if (ev.value.type === "delta") {
              if (ev.value.text === "") continue;
              return ctrl.enqueue(sse(plan.shapes.delta(ev.value.text, ev.value.logprobs)));
            }
            if (ev.value.type === "tool_call") {
              const shaped = plan.shapes.toolDelta?.(ev.value);
              if (shaped === undefined) continue;
              return ctrl.enqueue(sse(shaped));
            }
            ctrl.enqueue(sse(plan.shapes.final(ev.value.finishReason, ev.value.usage)));
            if (plan.includeUsage) ctrl.enqueue(sse(plan.shapes.usage(ev.value.usage)));
            const end = plan.shapes.terminator === undefined ? DONE : plan.shapes.terminator;
            if (end) ctrl.enqueue(end);
            await release();
            await meter.end(ev.value.usage, "ok");
            return ctrl.close();
          }
        } catch (err) {
          const cancelled = signal.aborted;
          const failure = errorBody(toGatewayError(nodeReasonOr(signal, err)));
          ctrl.enqueue(sse(plan.shapes.error ? plan.shapes.error(failure) : failure));
          await release();
          await meter.end(null, cancelled ? stoppedStatus(signal) : "error");
          ctrl.close();
        }
      },
      async cancel() {
        // The client went away: stop generating now, not at max_tokens.
        stop.abort(new GatewayError(499, GatewayCode.REQUEST_TIMEOUT, "client closed the request"));
        await meter.end(null, "cancelled");
        await release();
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { headers: SSE_HEADERS });
}
