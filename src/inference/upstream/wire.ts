/**
 * Shapes of OpenAI-compatible streaming chunks we read from upstream servers. Loose on
 * purpose: vLLM, SGLang, llama.cpp server and Ollama each add their own fields.
 */
import { z } from "zod";

const usage = z
  .object({ prompt_tokens: z.number().int().nonnegative(), completion_tokens: z.number().int().nonnegative() })
  .nullish();

const finishReason = z.string().nullish();

export const chatChunk = z.object({
  choices: z
    .array(z.object({ delta: z.object({ content: z.string().nullish() }).partial().nullish(), finish_reason: finishReason }))
    .default([]),
  usage,
});

export const completionChunk = z.object({
  choices: z.array(z.object({ text: z.string().nullish(), finish_reason: finishReason })).default([]),
  usage,
});

export const errorBody = z.object({ error: z.union([z.string(), z.object({ message: z.string().optional(), code: z.unknown().optional() })]) });

export const modelList = z.object({
  data: z.array(z.object({ id: z.string(), owned_by: z.string().optional(), created: z.number().optional(), max_model_len: z.number().int().positive().optional() })),
});

export function errorMessage(body: unknown): string | undefined {
  const parsed = errorBody.safeParse(body);
  if (!parsed.success) return undefined;
  const e = parsed.data.error;
  return typeof e === "string" ? e : e.message;
}
