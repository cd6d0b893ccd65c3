/**
 * Bounds on what a request may make the node do before any expensive work: node-llama-cpp
 * tokenizes and builds grammars synchronously on the event loop (measured here: ~0.35 µs
 * per prompt byte, a 3.9 MB prompt stalled every other request for ~3–6 s; a 20k-value
 * enum schema 1.3 s; a 1 MiB stop string 0.65 s). Each check below is O(input bytes) with
 * a tiny constant, and refuses what cannot possibly be served.
 *
 * Prompt: no prompt can fit the context if it is longer, in UTF-8 bytes, than
 * contextSize × the longest token of the vocabulary (every token covers at most that
 * many bytes). The per-token figure is capped at MAX_BYTES_PER_TOKEN, so the bound stays
 * small for vocabularies with a few very long tokens: a prompt averaging more than 32
 * bytes a token (English is ~4, code ~3) is refused even if it might just fit.
 * With the bound, what is left to tokenize on the event loop is at most that many bytes:
 * ~12 KB for stories260K (2048 × 6), 128 KiB for a 4096-token context (docs/notes/node-hardening.md).
 */
import type { LlamaModel, Token } from "node-llama-cpp";
import { InferenceError } from "../../errors.js";
import { InferenceCode } from "../backend.js";

export const MAX_BYTES_PER_TOKEN = 32;
/** OpenAI allows 4 stop sequences; none needs to be longer than this. */
export const MAX_STOP_BYTES = 1024;
/** JSON schema text (grammar conversion is superlinear in it: 64 KB of enum took 117 ms here). */
export const MAX_SCHEMA_BYTES = 16 * 1024;

export interface InputBounds {
  readonly maxPromptBytes: number;
  /** Throws CONTEXT_OVERFLOW when `texts` together cannot fit the context, before any tokenizing. */
  checkPrompt(texts: readonly string[]): void;
  /** Throws INPUT_TOO_LARGE for a stop sequence no generation could need. */
  checkStops(stops: readonly string[] | undefined): void;
}

/** The longest token of the model's vocabulary, in UTF-8 bytes (one pass at load: ~2 ms for 512 tokens, ~0.5 s for 150k). */
export function longestTokenBytes(model: LlamaModel): number {
  const n = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length ?? 0;
  let max = 1;
  for (let i = 0; i < n; i++) max = Math.max(max, Buffer.byteLength(model.detokenize([i as Token], true)));
  // An unreadable vocabulary gets the cap: still a bound.
  return n > 0 ? max : MAX_BYTES_PER_TOKEN;
}

export function createInputBounds(contextSize: number, tokenBytes: number): InputBounds {
  const maxPromptBytes = contextSize * Math.min(MAX_BYTES_PER_TOKEN, Math.max(1, tokenBytes));
  return {
    maxPromptBytes,
    checkPrompt(texts) {
      let bytes = 0;
      for (const t of texts) {
        // String length is a lower bound of UTF-8 bytes: cheap early exit for huge inputs.
        bytes += t.length > maxPromptBytes ? t.length : Buffer.byteLength(t);
        if (bytes > maxPromptBytes) {
          throw new InferenceError(
            InferenceCode.CONTEXT_OVERFLOW,
            `the prompt is over ${maxPromptBytes} bytes, more than the context of ${contextSize} tokens can hold; shorten the prompt`,
          );
        }
      }
    },
    checkStops(stops) {
      for (const s of stops ?? []) {
        if (s.length > MAX_STOP_BYTES || Buffer.byteLength(s) > MAX_STOP_BYTES) {
          throw new InferenceError(InferenceCode.INPUT_TOO_LARGE, `each stop sequence may be at most ${MAX_STOP_BYTES} bytes`);
        }
      }
    },
  };
}

/** Throws INVALID_SCHEMA for a schema whose text is too large to turn into a grammar on the event loop. */
export function checkSchemaSize(schemaText: string): void {
  if (schemaText.length > MAX_SCHEMA_BYTES || Buffer.byteLength(schemaText) > MAX_SCHEMA_BYTES) {
    throw new InferenceError(InferenceCode.INVALID_SCHEMA, `response_format json_schema is larger than ${MAX_SCHEMA_BYTES} bytes; simplify it`);
  }
}
