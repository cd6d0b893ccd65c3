import type { Handler } from "hono";
import { GatewayError } from "../../errors.js";
import type { InferenceBackend } from "../../inference/backend.js";
import type { GatewayEnv } from "../context.js";
import { GatewayCode } from "../errors.js";
import { embeddingRequestSchema } from "../schemas.js";
import { jsonBody } from "./parse.js";
import { refuseUnsupported, UNSUPPORTED } from "./unsupported.js";

/** base64 of little-endian float32, which the official SDK asks for by default. */
function toBase64(v: readonly number[]): string {
  const f = new Float32Array(v);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString("base64");
}

export function embeddingsHandler(backend: InferenceBackend): Handler<GatewayEnv> {
  return async (c) => {
    const b = embeddingRequestSchema.parse(await jsonBody(c));
    refuseUnsupported(b, UNSUPPORTED.embeddings);
    if (!backend.embed) throw new GatewayError(404, GatewayCode.NOT_FOUND, "this node's backend does not serve embeddings");
    await c.get("meter").begin(b.model);
    const { vectors, usage } = await backend.embed(b.model, b.input, c.get("signal"));
    await c.get("meter").end(usage, "ok");
    const base64 = b.encoding_format === "base64";
    return c.json({
      object: "list",
      model: b.model,
      data: vectors.map((v, index) => ({ object: "embedding", index, embedding: base64 ? toBase64(v) : v })),
      usage: { prompt_tokens: usage.promptTokens, total_tokens: usage.promptTokens },
    });
  };
}
