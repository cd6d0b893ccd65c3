/**
 * The embedded backend: llama.cpp in-process through node-llama-cpp. One model, one
 * context with `parallel` sequences lent out through a bounded pool; every request gets
 * a cleared sequence so no user's tokens are ever visible to the next request.
 */
import { basename } from "node:path";
import { LlamaChat, LlamaCompletion, resolveChatWrapper, type LlamaContextSequence, type LlamaGrammar, type Token } from "node-llama-cpp";
import { InferenceError } from "../../errors.js";
import {
  InferenceCode,
  type ChatRequest,
  type CompletionRequest,
  type GenerationEvent,
  type InferenceBackend,
  type ModelInfo,
  type SamplingParams,
  type Usage,
} from "../backend.js";
import { createChannel } from "../channel.js";
import { SlotPool, type PoolOptions } from "../pool.js";
import { createEmbedder } from "./embed.js";
import { createGrammarCache } from "./grammar.js";
import { createInputBounds, longestTokenBytes } from "./input-bounds.js";
import { toChatHistory } from "./history.js";
import { loadRuntime, resolveThreads } from "./runtime.js";
import { machineCpus } from "./threads.js";
import { countUsage } from "./usage.js";

export interface LlamaBackendOptions extends PoolOptions {
  readonly modelPath: string;
  /** Id clients use in `model`; default: the file name without `.gguf`. */
  readonly modelId?: string;
  /** CPU threads; default CLOISTER_THREADS, 1 under CI, else defaultThreads() (./threads.ts). */
  readonly threads?: number;
  /** Sequences generating at once (default 2). */
  readonly parallel?: number;
  /** Tokens per sequence (default: the model's training context, at most 4096). */
  readonly contextSize?: number;
  readonly gpu?: false | "auto";
}

/** Stop reasons from node-llama-cpp; only running out of tokens maps to "length". */
type StopReason = "eogToken" | "stopGenerationTrigger" | "functionCalls" | "maxTokens" | "abort" | "customStopTrigger";

interface GenerateHooks {
  readonly onTextChunk: (text: string) => void;
  readonly onToken: (tokens: Token[]) => void;
  readonly signal: AbortSignal;
  readonly stopOnAbortSignal: true;
}

export async function createLlamaBackend(options: LlamaBackendOptions): Promise<InferenceBackend> {
  const llama = await loadRuntime(options.gpu ?? false);
  const threads = resolveThreads(options.threads, process.env, machineCpus(llama.cpuMathCores));
  const modelId = options.modelId ?? basename(options.modelPath).replace(/\.gguf$/i, "");
  const model = await llama.loadModel({ modelPath: options.modelPath }).catch((cause: unknown) => {
    throw new InferenceError(InferenceCode.MODEL_UNAVAILABLE, `could not load the model file ${options.modelPath}; pass --model PATH or set CLOISTER_MODEL to a valid GGUF file`, { cause });
  });
  const parallel = Math.max(1, options.parallel ?? 2);
  const context = await model.createContext({
    sequences: parallel,
    contextSize: options.contextSize ?? Math.min(model.trainContextSize, 4096),
    threads,
  });
  const sequences = Array.from({ length: parallel }, () => context.getSequence());
  // Refuses oversized input before tokenizing it on the event loop (./input-bounds.ts).
  const bounds = createInputBounds(context.contextSize, longestTokenBytes(model));
  const pool = new SlotPool<LlamaContextSequence>(sequences, options);
  const chatWrapper = resolveChatWrapper(model);
  const grammarFor = createGrammarCache(llama);
  const embedder = createEmbedder(model, threads);
  const created = Math.floor(Date.now() / 1000);

  function checkModel(id: string): void {
    if (id !== modelId) throw new InferenceError(InferenceCode.MODEL_NOT_FOUND, `model "${id}" is not served here; available: ${modelId}`);
  }

  function checkFits(promptTokens: number): void {
    if (promptTokens >= context.contextSize) {
      throw new InferenceError(
        InferenceCode.CONTEXT_OVERFLOW,
        `the prompt is ${promptTokens} tokens but the context holds ${context.contextSize}; shorten the prompt`,
      );
    }
  }

  async function* generate(
    req: SamplingParams,
    promptTokens: number,
    run: (seq: LlamaContextSequence, grammar: LlamaGrammar | undefined, maxTokens: number, hooks: GenerateHooks) => Promise<{ metadata: { stopReason: StopReason } }>,
  ): AsyncGenerator<GenerationEvent> {
    checkFits(promptTokens);
    const grammar = req.jsonSchema ? await grammarFor(req.jsonSchema) : undefined;
    const seq = await pool.acquire(req.signal);
    const stop = new AbortController();
    const onClientAbort = (): void => stop.abort();
    req.signal?.addEventListener("abort", onClientAbort, { once: true });
    const chunks = createChannel<string>();
    // OpenAI semantics: generation ends with "length" when the context is full too.
    const room = context.contextSize - promptTokens;
    const maxTokens = req.maxTokens === undefined ? room : Math.min(req.maxTokens, room);
    const usage = countUsage(seq, maxTokens);
    const running = run(seq, grammar, maxTokens, {
      onTextChunk: (t) => chunks.push(t),
      onToken: (t) => usage.onToken(t),
      signal: stop.signal,
      stopOnAbortSignal: true,
    }).then(
      (r) => {
        chunks.end();
        return r.metadata.stopReason;
      },
      (err: unknown) => {
        chunks.fail(err);
        return "abort" as const;
      },
    );
    let final: GenerationEvent;
    try {
      for await (const text of chunks) {
        // Tokens already buffered when the client left are dropped, not delivered.
        if (req.signal?.aborted) break;
        if (text) yield { type: "delta", text, usage: usage.snapshot() };
      }
      const reason = await running;
      if (req.signal?.aborted) throw new InferenceError(InferenceCode.CANCELLED, "the request was cancelled by the client");
      const usageTotals: Usage = usage.finish();
      final = { type: "done", finishReason: reason === "maxTokens" ? "length" : "stop", usage: usageTotals };
    } catch (err) {
      if (err instanceof InferenceError) throw err;
      throw new InferenceError(InferenceCode.GENERATION_FAILED, "generation failed", { cause: err });
    } finally {
      // Also reached when the consumer stops iterating early: stop, wipe, give back.
      req.signal?.removeEventListener("abort", onClientAbort);
      stop.abort();
      await running;
      await seq.clearHistory().catch(() => undefined);
      pool.release(seq);
    }
    // The sequence is back in the pool before `done` is seen, so a consumer that stops
    // at `done` without closing the iterator cannot hold a slot.
    yield final;
  }

  return {
    kind: "llama",
    maxPromptBytes: bounds.maxPromptBytes,
    async listModels(): Promise<readonly ModelInfo[]> {
      return [{ id: modelId, ownedBy: "cloister", created }];
    },
    async *complete(req: CompletionRequest): AsyncGenerator<GenerationEvent> {
      checkModel(req.model);
      bounds.checkPrompt([req.prompt]);
      bounds.checkStops(req.stop);
      // LlamaCompletion prepends BOS; +1 is enough for the overflow check.
      const estimate = model.tokenize(req.prompt).length + 1;
      yield* generate(req, estimate, (seq, grammar, maxTokens, hooks) => {
        const completion = new LlamaCompletion({ contextSequence: seq, autoDisposeSequence: false });
        return completion
          .generateCompletionWithMeta(req.prompt, { ...sampling(req), ...hooks, maxTokens, disableContextShift: true, ...(grammar ? { grammar } : {}) })
          .finally(() => completion.dispose({ disposeSequence: false }));
      });
    },
    async *chat(req: ChatRequest): AsyncGenerator<GenerationEvent> {
      checkModel(req.model);
      bounds.checkPrompt(req.messages.map((m) => m.content));
      bounds.checkStops(req.stop);
      const history = toChatHistory(req.messages);
      const rendered = chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(model.tokenizer).length;
      yield* generate(req, rendered, (seq, grammar, maxTokens, hooks) => {
        const chat = new LlamaChat({ contextSequence: seq, chatWrapper, autoDisposeSequence: false });
        return chat
          .generateResponse(history, { ...sampling(req), ...hooks, maxTokens, ...(grammar ? { grammar } : {}) })
          .finally(() => chat.dispose({ disposeSequence: false }));
      });
    },
    async embed(id: string, input: readonly string[], signal?: AbortSignal) {
      checkModel(id);
      // Each input is tokenized on its own, with the event loop free between them.
      for (const text of input) bounds.checkPrompt([text]);
      return embedder.embed(input, signal);
    },
    async close(): Promise<void> {
      pool.close();
      await embedder.close();
      await context.dispose();
      await model.dispose();
    },
  };
}

function sampling(req: SamplingParams): { temperature?: number; topP?: number; seed?: number; customStopTriggers?: string[] } {
  return {
    ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
    ...(req.topP === undefined ? {} : { topP: req.topP }),
    ...(req.seed === undefined ? {} : { seed: req.seed }),
    ...(req.stop && req.stop.length > 0 ? { customStopTriggers: [...req.stop] } : {}),
  };
}
