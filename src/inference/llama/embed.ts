/**
 * Embeddings on the loaded model through a separate embedding context, created on first
 * use (most nodes never embed) and used by one request at a time.
 */
import type { LlamaEmbeddingContext, LlamaModel } from "node-llama-cpp";
import { InferenceError } from "../../errors.js";
import { InferenceCode, type Usage } from "../backend.js";

export interface Embedder {
  embed(input: readonly string[], signal?: AbortSignal): Promise<{ vectors: number[][]; usage: Usage }>;
  close(): Promise<void>;
}

export function createEmbedder(model: LlamaModel, threads: number | undefined): Embedder {
  let ctx: Promise<LlamaEmbeddingContext> | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  const context = (): Promise<LlamaEmbeddingContext> => {
    ctx ??= model.createEmbeddingContext(threads === undefined ? {} : { threads }).catch((cause: unknown) => {
      ctx = null;
      throw new InferenceError(InferenceCode.GENERATION_FAILED, "this model cannot produce embeddings", { cause });
    });
    return ctx;
  };
  return {
    embed(input, signal) {
      const job = queue.then(async () => {
        const ec = await context();
        const vectors: number[][] = [];
        let promptTokens = 0;
        for (const text of input) {
          if (signal?.aborted) throw new InferenceError(InferenceCode.CANCELLED, "the request was cancelled by the client");
          promptTokens += model.tokenize(text).length;
          const e = await ec.getEmbeddingFor(text);
          vectors.push([...e.vector]);
        }
        return { vectors, usage: { promptTokens, completionTokens: 0 } };
      });
      queue = job.catch(() => undefined);
      return job;
    },
    async close() {
      if (ctx) await (await ctx.catch(() => null))?.dispose();
    },
  };
}
