/**
 * OpenAI response objects (https://platform.openai.com/docs/api-reference/chat/object and
 * .../completions/object), built from backend events. Only the fields the official SDK
 * reads; no system_fingerprint (we have none to give).
 */
import type { FinishReason, TokenLogprob, ToolCall, Usage } from "../inference/backend.js";
import type { AnswerExtras, ToolCallDelta } from "./generate.js";

export interface Meta {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

export const usageJson = (u: Usage) => ({ prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens });

/** Chat logprobs (https://platform.openai.com/docs/api-reference/chat/object#chat/object-choices). */
export function chatLogprobs(lps: readonly TokenLogprob[] | null | undefined) {
  if (!lps) return null;
  return {
    content: lps.map((t) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes, top_logprobs: t.top.map((a) => ({ token: a.token, logprob: a.logprob, bytes: a.bytes })) })),
    refusal: null,
  };
}

/** Legacy completions logprobs: parallel arrays and one {token: logprob} map per token. */
export function textLogprobs(lps: readonly TokenLogprob[] | null | undefined) {
  if (!lps) return null;
  let offset = 0;
  const text_offset = lps.map((t) => ((offset += t.token.length), offset - t.token.length));
  return {
    tokens: lps.map((t) => t.token),
    token_logprobs: lps.map((t) => t.logprob),
    top_logprobs: lps.map((t) => Object.fromEntries(t.top.map((a) => [a.token, a.logprob]))),
    text_offset,
  };
}

const toolCallJson = (c: ToolCall) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: c.arguments } });

export function chatCompletion(m: Meta, text: string, finish: FinishReason, usage: Usage, extras?: AnswerExtras) {
  const calls = extras?.toolCalls ?? [];
  // OpenAI: content is null when the turn is only tool calls.
  const message = calls.length > 0 ? { role: "assistant", content: text === "" ? null : text, tool_calls: calls.map(toolCallJson) } : { role: "assistant", content: text };
  return {
    id: m.id,
    object: "chat.completion",
    created: m.created,
    model: m.model,
    choices: [{ index: 0, message, logprobs: chatLogprobs(extras?.logprobs), finish_reason: finish }],
    usage: usageJson(usage),
  };
}

export function chatChunk(m: Meta, delta: Readonly<Record<string, unknown>>, finish: FinishReason | null, logprobs: readonly TokenLogprob[] | undefined = undefined) {
  return { id: m.id, object: "chat.completion.chunk", created: m.created, model: m.model, choices: [{ index: 0, delta, logprobs: chatLogprobs(logprobs), finish_reason: finish }] };
}

/** A stream delta of tool call `index`: id, type and name first, then arguments text. */
export function toolCallDelta(ev: ToolCallDelta): Record<string, unknown> {
  const head = ev.id !== undefined ? { id: ev.id, type: "function" } : {};
  const fn = ev.name !== undefined ? { name: ev.name, arguments: ev.argumentsDelta } : { arguments: ev.argumentsDelta };
  return { tool_calls: [{ index: ev.index, ...head, function: fn }] };
}

export function chatUsageChunk(m: Meta, usage: Usage) {
  return { id: m.id, object: "chat.completion.chunk", created: m.created, model: m.model, choices: [], usage: usageJson(usage) };
}

export function textCompletion(m: Meta, text: string, finish: FinishReason, usage: Usage, extras?: AnswerExtras) {
  return { id: m.id, object: "text_completion", created: m.created, model: m.model, choices: [{ index: 0, text, logprobs: textLogprobs(extras?.logprobs), finish_reason: finish }], usage: usageJson(usage) };
}

export function textChunk(m: Meta, text: string, finish: FinishReason | null, logprobs: readonly TokenLogprob[] | undefined = undefined) {
  return { id: m.id, object: "text_completion", created: m.created, model: m.model, choices: [{ index: 0, text, logprobs: textLogprobs(logprobs), finish_reason: finish }] };
}

export function textUsageChunk(m: Meta, usage: Usage) {
  return { id: m.id, object: "text_completion", created: m.created, model: m.model, choices: [], usage: usageJson(usage) };
}
