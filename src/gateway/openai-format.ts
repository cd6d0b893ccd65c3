/**
 * OpenAI response objects (https://platform.openai.com/docs/api-reference/chat/object and
 * .../completions/object), built from backend events. Only the fields the official SDK
 * reads; no system_fingerprint (we have none to give).
 */
import type { FinishReason, Usage } from "../inference/backend.js";

export interface Meta {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

export const usageJson = (u: Usage) => ({ prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens });

export function chatCompletion(m: Meta, text: string, finish: FinishReason, usage: Usage) {
  return {
    id: m.id,
    object: "chat.completion",
    created: m.created,
    model: m.model,
    choices: [{ index: 0, message: { role: "assistant", content: text }, logprobs: null, finish_reason: finish }],
    usage: usageJson(usage),
  };
}

export function chatChunk(m: Meta, delta: Readonly<Record<string, string>>, finish: FinishReason | null) {
  return { id: m.id, object: "chat.completion.chunk", created: m.created, model: m.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
}

export function chatUsageChunk(m: Meta, usage: Usage) {
  return { id: m.id, object: "chat.completion.chunk", created: m.created, model: m.model, choices: [], usage: usageJson(usage) };
}

export function textCompletion(m: Meta, text: string, finish: FinishReason, usage: Usage) {
  return { id: m.id, object: "text_completion", created: m.created, model: m.model, choices: [{ index: 0, text, logprobs: null, finish_reason: finish }], usage: usageJson(usage) };
}

export function textChunk(m: Meta, text: string, finish: FinishReason | null) {
  return { id: m.id, object: "text_completion", created: m.created, model: m.model, choices: [{ index: 0, text, logprobs: null, finish_reason: finish }] };
}

export function textUsageChunk(m: Meta, usage: Usage) {
  return { id: m.id, object: "text_completion", created: m.created, model: m.model, choices: [], usage: usageJson(usage) };
}
