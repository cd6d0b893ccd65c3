/**
 * OpenAI request bodies, parsed at the boundary with zod. Unknown fields pass (clients
 * send `user`, `logit_bias`, ...) but the ones we act on are checked strictly; `n` other
 * than 1 is refused rather than silently ignored.
 */
import { z } from "zod";

const textPart = z.object({ type: z.literal("text"), text: z.string() });
const content = z.union([z.string(), z.array(textPart).min(1)]).transform((c) => (typeof c === "string" ? c : c.map((p) => p.text).join("")));

export const chatMessageSchema = z.object({
  // "developer" is OpenAI's newer name for system.
  role: z.enum(["system", "developer", "user", "assistant"]).transform((r) => (r === "developer" ? "system" : r)),
  content,
});

const stop = z.union([z.string(), z.array(z.string()).max(4)]).transform((s) => (typeof s === "string" ? [s] : s));

const sampling = {
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  stop: stop.nullish(),
  seed: z.number().int().nullish(),
  n: z.number().int().positive().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).passthrough().nullish(),
};

const responseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({ name: z.string().optional(), schema: z.record(z.unknown()), strict: z.boolean().nullish() }).passthrough(),
  }),
]);

export const chatRequestSchema = z
  .object({ model: z.string().min(1), messages: z.array(chatMessageSchema).min(1), response_format: responseFormat.nullish(), ...sampling })
  .passthrough();

export const completionRequestSchema = z
  .object({ model: z.string().min(1), prompt: z.union([z.string(), z.array(z.string()).length(1)]).transform((p) => (typeof p === "string" ? p : p[0] ?? "")), ...sampling })
  .passthrough();

export const embeddingRequestSchema = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(z.string()).min(1).max(2048)]).transform((i) => (typeof i === "string" ? [i] : i)),
    encoding_format: z.enum(["float", "base64"]).nullish(),
  })
  .passthrough();

export type ChatRequestBody = z.infer<typeof chatRequestSchema>;
export type CompletionRequestBody = z.infer<typeof completionRequestSchema>;
export type EmbeddingRequestBody = z.infer<typeof embeddingRequestSchema>;
