/**
 * Counts prompt and completion tokens exactly as the model's tokenizer saw them.
 * The sequence is cleared before every request, so when the first generated token is
 * reported the context holds the whole rendered prompt plus any tokens that were held
 * back as an incomplete UTF-8 character (they arrive together in that first report).
 */
import type { LlamaContextSequence, Token } from "node-llama-cpp";
import type { Usage } from "../backend.js";

export interface UsageCounter {
  onToken(tokens: readonly Token[]): void;
  finish(): Usage;
  /** Totals so far (same rules as finish), for metering a stream cut off before its end. */
  snapshot(): Usage;
}

export function countUsage(sequence: LlamaContextSequence, maxTokens: number): UsageCounter {
  let promptTokens = -1;
  let completionTokens = 0;
  // node-llama-cpp 3.21 skips its maxTokens check while a token that ends in half a
  // UTF-8 character is pending, so it can sample one token past the limit. OpenAI
  // promises completion_tokens <= max_tokens and receipts bill on it: clamp.
  const totals = (): Usage => ({ promptTokens, completionTokens: Math.min(completionTokens, maxTokens) });
  return {
    onToken(tokens) {
      if (promptTokens < 0) promptTokens = sequence.contextTokens.length - (tokens.length - 1);
      completionTokens += tokens.length;
    },
    finish() {
      // Nothing generated (immediate end of text): everything in context is prompt.
      if (promptTokens < 0) promptTokens = sequence.contextTokens.length;
      return totals();
    },
    snapshot: () => (promptTokens < 0 ? { promptTokens: sequence.contextTokens.length, completionTokens: 0 } : totals()),
  };
}
