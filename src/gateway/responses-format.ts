/**
 * Response objects and stream events of the Responses API
 * (https://platform.openai.com/docs/api-reference/responses/object and .../responses-streaming):
 * output items are a `message` with one `output_text` part and/or `function_call` items;
 * a stream is response.created, response.in_progress, then per item output_item.added,
 * (content_part.added, output_text.delta…, output_text.done, content_part.done |
 * function_call_arguments.delta…, function_call_arguments.done), output_item.done, and
 * last response.completed (or response.incomplete at max_output_tokens). Every event
 * has a `sequence_number`; there is no `[DONE]`.
 */
import type { FinishReason, TokenLogprob, ToolCall, Usage } from "../inference/backend.js";
import type { AnswerExtras, ResponseShapes, ToolCallDelta } from "./generate.js";
import type { OpenAIErrorBody } from "./errors.js";
import { newId } from "./context.js";

export interface ResponseMeta {
  readonly id: string;
  readonly createdAt: number;
  readonly model: string;
  /** Request fields echoed in the response object, as OpenAI does. */
  readonly echo: Readonly<Record<string, unknown>>;
}

const usageJson = (u: Usage) => ({
  input_tokens: u.promptTokens,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: u.completionTokens,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: u.promptTokens + u.completionTokens,
});

/** The Responses API's logprobs (the output text's tokens, each with its top alternatives), [] when none were asked for. */
const logprobsJson = (lps: readonly TokenLogprob[] | null | undefined) =>
  (lps ?? []).map((t) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes, top_logprobs: t.top.map((a) => ({ token: a.token, logprob: a.logprob, bytes: a.bytes })) }));

const textPart = (text: string, lps: readonly TokenLogprob[] | null | undefined) => ({ type: "output_text", text, annotations: [], logprobs: logprobsJson(lps) });

const messageItem = (id: string, text: string, status: "in_progress" | "completed", lps?: readonly TokenLogprob[] | null) => ({
  type: "message",
  id,
  status,
  role: "assistant",
  content: status === "in_progress" && text === "" ? [] : [textPart(text, lps)],
});

const callItem = (id: string, c: ToolCall, status: "in_progress" | "completed") => ({ type: "function_call", id, call_id: c.id, name: c.name, arguments: c.arguments, status });

function responseObject(m: ResponseMeta, status: "in_progress" | "completed" | "incomplete", output: readonly unknown[], usage: Usage | null) {
  return {
    id: m.id,
    object: "response",
    created_at: m.createdAt,
    status,
    error: null,
    incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" } : null,
    model: m.model,
    output,
    usage: usage ? usageJson(usage) : null,
    store: false,
    ...m.echo,
  };
}

export function fullResponse(m: ResponseMeta, text: string, finish: FinishReason, usage: Usage, extras: AnswerExtras) {
  const output: unknown[] = [];
  if (text !== "" || extras.toolCalls.length === 0) output.push(messageItem(newId("msg_"), text, "completed", extras.logprobs));
  for (const c of extras.toolCalls) output.push(callItem(newId("fc_"), c, "completed"));
  return responseObject(m, finish === "length" ? "incomplete" : "completed", output, usage);
}

const enc = new TextEncoder();

/** Stateful stream shapes for one response (items open and close as the answer goes). */
export function responseStreamShapes(m: ResponseMeta): ResponseShapes {
  let seq = 0;
  const ev = (type: string, body: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...body })}\n\n`;
  const bytes = (parts: readonly string[]): Uint8Array => enc.encode(parts.join(""));
  const output: unknown[] = [];
  let msg: { id: string; index: number; text: string; logprobs: TokenLogprob[] } | null = null;
  let call: { id: string; index: number; call: { id: string; name: string; arguments: string } } | null = null;

  const closeMessage = (): string[] => {
    if (!msg) return [];
    const { id, index, text, logprobs } = msg;
    msg = null;
    const part = textPart(text, logprobs);
    const item = messageItem(id, text, "completed", logprobs);
    output[index] = item;
    return [
      ev("response.output_text.done", { item_id: id, output_index: index, content_index: 0, text, logprobs: part.logprobs }),
      ev("response.content_part.done", { item_id: id, output_index: index, content_index: 0, part }),
      ev("response.output_item.done", { output_index: index, item }),
    ];
  };
  const closeCall = (): string[] => {
    if (!call) return [];
    const { id, index } = call;
    const item = callItem(id, call.call, "completed");
    call = null;
    output[index] = item;
    return [ev("response.function_call_arguments.done", { item_id: id, output_index: index, arguments: item.arguments }), ev("response.output_item.done", { output_index: index, item })];
  };

  return {
    full: () => null,
    head: () => {
      const r = responseObject(m, "in_progress", [], null);
      return bytes([ev("response.created", { response: r }), ev("response.in_progress", { response: r })]);
    },
    delta: (text, lps) => {
      const out = closeCall();
      if (!msg) {
        msg = { id: newId("msg_"), index: output.length, text: "", logprobs: [] };
        output.push(null);
        out.push(ev("response.output_item.added", { output_index: msg.index, item: messageItem(msg.id, "", "in_progress") }));
        out.push(ev("response.content_part.added", { item_id: msg.id, output_index: msg.index, content_index: 0, part: textPart("", null) }));
      }
      msg.text += text;
      if (lps) msg.logprobs.push(...lps);
      out.push(ev("response.output_text.delta", { item_id: msg.id, output_index: msg.index, content_index: 0, delta: text, logprobs: logprobsJson(lps) }));
      return bytes(out);
    },
    toolDelta: (d: ToolCallDelta) => {
      const out = closeMessage();
      if (d.id !== undefined) {
        out.push(...closeCall());
        call = { id: newId("fc_"), index: output.length, call: { id: d.id, name: d.name ?? "", arguments: "" } };
        output.push(null);
        out.push(ev("response.output_item.added", { output_index: call.index, item: callItem(call.id, call.call, "in_progress") }));
      }
      if (call && d.argumentsDelta) {
        call.call.arguments += d.argumentsDelta;
        out.push(ev("response.function_call_arguments.delta", { item_id: call.id, output_index: call.index, delta: d.argumentsDelta }));
      }
      return out.length ? bytes(out) : undefined;
    },
    final: (finish, usage) => {
      const out = [...closeMessage(), ...closeCall()];
      const status = finish === "length" ? "incomplete" : "completed";
      out.push(ev(`response.${status}`, { response: responseObject(m, status, output, usage) }));
      return bytes(out);
    },
    usage: () => null,
    terminator: null,
    error: (e: OpenAIErrorBody) => bytes([ev("error", { code: e.error.code, message: e.error.message, param: e.error.param })]),
  };
}
