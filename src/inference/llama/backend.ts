/**
 * The embedded backend: llama.cpp in-process through node-llama-cpp. One model, one
 * context with `parallel` sequences lent out through a bounded pool; every request gets
 * a cleared sequence so no user's tokens are ever visible to the next request.
 */
import { basename } from "node:path";
import { LlamaChat, LlamaCompletion, resolveChatWrapper, TokenBias, type ChatHistoryItem, type LlamaContextSequence, type LlamaGrammar, type Token } from "node-llama-cpp";
import { InferenceError } from "../../errors.js";
import {
  InferenceCode,
  type ChatRequest,
  type CompletionRequest,
  type GenerationEvent,
  type InferenceBackend,
  type ModelInfo,
  type SamplingParams,
  type TokenLogprob,
  type Usage,
} from "../backend.js";
import { createChannel } from "../channel.js";
import { SlotPool, type PoolOptions } from "../pool.js";
import { createEmbedder } from "./embed.js";
import { createGrammarCache } from "./grammar.js";
import { findSchemaProblem } from "./schema-check.js";
import { createInputBounds, longestTokenBytes } from "./input-bounds.js";
import { toChatHistory } from "./history.js";
import { generateWithLogprobs } from "./logprobs.js";
import { loadRuntime, resolveThreads } from "./runtime.js";
import { forcedCallParser, forcedCallSchema, forcedTools, functionsOf, newToolCallId } from "./tools.js";
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

/** What a generation pushes out before `done` (usage is added by `generate`). */
type Piece =
  | { readonly type: "delta"; readonly text: string; readonly logprobs?: readonly TokenLogprob[] }
  | { readonly type: "tool_call"; readonly index: number; readonly id?: string; readonly name?: string; readonly argumentsDelta: string };

/** Runs one generation on a lent sequence with the hooks `generate` provides. */
type Run = (seq: LlamaContextSequence, grammar: LlamaGrammar | undefined, maxTokens: number, hooks: GenerateHooks) => Promise<{ metadata: { stopReason: StopReason } }>;

/** What a request resolved to before a slot is taken: its sampling, prompt size and how to run it. */
interface Plan {
  readonly req: SamplingParams;
  readonly promptTokens: number;
  readonly run: Run;
}

interface GenerateHooks {
  readonly onTextChunk: (text: string) => void;
  readonly emit: (piece: Piece) => void;
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
  const vocabSize = model.fileInfo.metadata.tokenizer.ggml.tokens.length;

  /** logit_bias as node-llama-cpp's TokenBias; token ids outside the vocabulary are refused. */
  const biases = new WeakMap<object, TokenBias>();
  function biasOf(req: SamplingParams): TokenBias | undefined {
    if (!req.logitBias || Object.keys(req.logitBias).length === 0) return undefined;
    const known = biases.get(req.logitBias);
    if (known) return known;
    const bias = new TokenBias(model.tokenizer);
    for (const [id, v] of Object.entries(req.logitBias)) {
      const t = Number(id);
      if (!Number.isInteger(t) || t < 0 || t >= vocabSize) throw new InferenceError(InferenceCode.UNSUPPORTED_PARAM, `logit_bias names token ${id}, outside this model's vocabulary of ${vocabSize}`, { details: { param: "logit_bias" } });
      // OpenAI: -100 bans the token, +100 forces it; in between the value is added to the logit.
      bias.set(t as Token, v <= -100 ? "never" : { logit: v });
    }
    biases.set(req.logitBias, bias);
    return bias;
  }

  /** Options every LlamaChat/LlamaCompletion call shares: sampling, penalties, bias, hooks. */
  function common(req: SamplingParams) {
    const tokenBias = biasOf(req);
    const penalised = req.frequencyPenalty !== undefined || req.presencePenalty !== undefined;
    return {
      ...sampling(req),
      ...(tokenBias ? { tokenBias } : {}),
      // OpenAI's penalties count every generated token; node-llama-cpp's window is the last N.
      // Unasked, none: node-llama-cpp's default already samples without one (penalty 1) but
      // still copies and filters the last 64 tokens for the sampler on every token.
      repeatPenalty: penalised ? { lastTokens: 4096, penalty: 1, frequencyPenalty: req.frequencyPenalty ?? 0, presencePenalty: req.presencePenalty ?? 0 } : (false as const),
    };
  }
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

  /**
   * One generation on a pooled sequence. `plan` runs on the first `next()` (so a bad
   * request fails where the caller iterates, as before) and says what to run; `complete`
   * and `chat` return this generator itself rather than delegating to it with `yield*`,
   * because every generator layer is paid once per token between two decodes.
   */
  async function* generate(plan: () => Plan): AsyncGenerator<GenerationEvent> {
    const { req, promptTokens, run } = plan();
    checkFits(promptTokens);
    biasOf(req); // a bad logit_bias is refused before a slot is taken
    const grammar = req.jsonSchema ? await grammarFor(req.jsonSchema) : undefined;
    const seq = await pool.acquire(req.signal);
    const stop = new AbortController();
    const onClientAbort = (): void => stop.abort();
    req.signal?.addEventListener("abort", onClientAbort, { once: true });
    const chunks = createChannel<Piece>();
    let calledTools = false;
    // OpenAI semantics: generation ends with "length" when the context is full too.
    const room = context.contextSize - promptTokens;
    const maxTokens = req.maxTokens === undefined ? room : Math.min(req.maxTokens, room);
    const usage = countUsage(seq, maxTokens);
    const running = run(seq, grammar, maxTokens, {
      onTextChunk: (text) => chunks.push({ type: "delta", text }),
      emit: (piece) => {
        if (piece.type === "tool_call") calledTools = true;
        chunks.push(piece);
      },
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
      for (;;) {
        const piece = chunks.take();
        if (piece === undefined) {
          if (await chunks.ready()) continue;
          break;
        }
        // Tokens already buffered when the client left are dropped, not delivered.
        if (req.signal?.aborted) break;
        // Usage is read when the piece is handed out: it counts every token generated so far.
        if (piece.type === "tool_call") yield { ...piece, usage: usage.snapshot() };
        else if (piece.text) yield piece.logprobs ? { type: "delta", text: piece.text, logprobs: piece.logprobs, usage: usage.snapshot() } : { type: "delta", text: piece.text, usage: usage.snapshot() };
      }
      const reason = await running;
      // The gateway reports its own reason (time limit, shutdown) from the signal; this is the fallback.
      if (req.signal?.aborted) throw new InferenceError(InferenceCode.CANCELLED, "the request was cancelled");
      const usageTotals: Usage = usage.finish();
      final = { type: "done", finishReason: reason === "maxTokens" ? "length" : calledTools ? "tool_calls" : "stop", usage: usageTotals };
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

  /** The logprobs path (./logprobs.ts) behind the same hooks as LlamaChat/LlamaCompletion. */
  function logprobRun(req: SamplingParams, seq: LlamaContextSequence, prompt: readonly Token[], grammar: LlamaGrammar | undefined, maxTokens: number, hooks: GenerateHooks, extraStops: readonly string[] = []) {
    const tokenBias = biasOf(req);
    return generateWithLogprobs({
      seq,
      model,
      prompt,
      maxTokens,
      topLogprobs: req.topLogprobs ?? 0,
      ...sampling(req),
      ...(grammar ? { grammar } : {}),
      ...(tokenBias ? { tokenBias } : {}),
      ...(req.frequencyPenalty === undefined ? {} : { frequencyPenalty: req.frequencyPenalty }),
      ...(req.presencePenalty === undefined ? {} : { presencePenalty: req.presencePenalty }),
      stop: [...(req.stop ?? []), ...extraStops.filter((s) => s.length > 0)],
      signal: hooks.signal,
      onToken: hooks.onToken,
      emit: (text, logprobs) => hooks.emit({ type: "delta", text, logprobs }),
    });
  }

  /**
   * tool_choice "required" or a named function: the answer is generated under the grammar
   * of the call (./tools.ts), with the tools documented in a system message — the chat
   * wrapper's own documentation when it leaves half the context free, else one line.
   */
  function forcedCall(req: ChatRequest, tools: NonNullable<ReturnType<typeof forcedTools>>): Plan {
    if (tools.length === 0) {
      const name = typeof req.toolChoice === "object" ? req.toolChoice.name : "";
      throw new InferenceError(InferenceCode.UNSUPPORTED_PARAM, `tool_choice names "${name}", which is not in tools`, { details: { param: "tool_choice" } });
    }
    const base = toChatHistory(req.messages);
    const documented = chatWrapper.addAvailableFunctionsSystemMessageToHistory(base, functionsOf(tools), { documentParams: true });
    const tokensOf = (h: readonly ChatHistoryItem[]): number => chatWrapper.generateContextState({ chatHistory: [...h] }).contextText.tokenize(model.tokenizer).length;
    let history: ChatHistoryItem[] = [...documented];
    let promptTokens = tokensOf(history);
    if (promptTokens > context.contextSize / 2) {
      const names = tools.map((t) => t.name).join(", ");
      history = [{ type: "system", text: `Call ${tools.length === 1 ? "the function" : "one of the functions"} ${names}; answer with its arguments as JSON.` }, ...base];
      promptTokens = tokensOf(history);
    }
    const parser = forcedCallParser(tools);
    const id = newToolCallId();
    let named = false;
    const emitAll = (hooks: GenerateHooks, evs: ReturnType<typeof parser.push>): void => {
      for (const e of evs) {
        const first = !named && e.name !== undefined;
        if (first) named = true;
        if (!named) continue;
        hooks.emit({ type: "tool_call", index: 0, ...(first ? { id, name: e.name } : {}), argumentsDelta: e.argumentsDelta });
      }
    };
    const run: Run = (seq, grammar, maxTokens, hooks) => {
      const chat = new LlamaChat({ contextSequence: seq, chatWrapper, autoDisposeSequence: false });
      return chat
        .generateResponse(history, {
          ...common(req),
          onToken: hooks.onToken,
          signal: hooks.signal,
          stopOnAbortSignal: true,
          maxTokens,
          onTextChunk: (t) => emitAll(hooks, parser.push(t)),
          ...(grammar ? { grammar } : {}),
        })
        .then((r) => (emitAll(hooks, parser.end()), r))
        .finally(() => chat.dispose({ disposeSequence: false }));
    };
    return { req: { ...req, jsonSchema: forcedCallSchema(tools) }, promptTokens, run };
  }

  function completionPlan(req: CompletionRequest): Plan {
    checkModel(req.model);
    bounds.checkPrompt([req.prompt]);
    bounds.checkStops(req.stop);
    // LlamaCompletion prepends BOS; +1 is enough for the overflow check.
    const estimate = model.tokenize(req.prompt).length + 1;
    const run: Run = (seq, grammar, maxTokens, hooks) => {
      if (req.topLogprobs !== undefined) {
        const prompt = model.tokenize(req.prompt);
        return logprobRun(req, seq, [...(model.tokens.bos !== null && model.tokens.shouldPrependBosToken ? [model.tokens.bos] : []), ...prompt], grammar, maxTokens, hooks);
      }
      const completion = new LlamaCompletion({ contextSequence: seq, autoDisposeSequence: false });
      return completion
        .generateCompletionWithMeta(req.prompt, { ...common(req), ...textHooks(hooks), maxTokens, disableContextShift: true, ...(grammar ? { grammar } : {}) })
        .finally(() => completion.dispose({ disposeSequence: false }));
    };
    return { req, promptTokens: estimate, run };
  }

  function chatPlan(req: ChatRequest): Plan {
    checkModel(req.model);
    const tools = req.tools ?? [];
    // Everything the chat wrapper renders into the prompt counts, not only message text:
    // tool-call arguments in the history and the tools' documentation are tokenized too.
    bounds.checkPrompt([
      ...req.messages.flatMap((m) => (m.toolCalls ? [m.content, ...m.toolCalls.map((c) => c.arguments)] : [m.content])),
      ...tools.flatMap((t) => [t.name, t.description ?? ""]),
    ]);
    bounds.checkStops(req.stop);
    // Every tool's schema reaches node-llama-cpp (its documentation, and the grammar of a
    // call), not only a forced call's: the same checks as response_format, before any of it.
    for (const t of tools) {
      const problem = t.parameters ? findSchemaProblem(t.parameters) : null;
      if (problem) throw new InferenceError(InferenceCode.INVALID_SCHEMA, `the parameters of tool "${t.name}" are invalid: ${problem}`, { details: { param: "tools" } });
    }
    const choice = tools.length > 0 ? (req.toolChoice ?? "auto") : "none";
    const forced = choice === "none" ? null : forcedTools(tools, choice);
    if (req.topLogprobs !== undefined && choice !== "none") {
      throw new InferenceError(InferenceCode.UNSUPPORTED_PARAM, "logprobs cannot be combined with tools on this backend", { details: { param: "logprobs" } });
    }
    // LlamaChat takes a grammar or functions, not both: with tool_choice auto the tools
    // were silently dropped (documented in the prompt, never callable) once a schema was set.
    if (req.jsonSchema && choice !== "none") throw new InferenceError(InferenceCode.UNSUPPORTED_PARAM, forced ? "response_format cannot be combined with a required tool call" : "response_format cannot be combined with tools on this backend (tool_choice none is served)", { details: { param: "response_format" } });
    if (forced) return forcedCall(req, forced);
    const history = toChatHistory(req.messages);
    const functions = choice === "auto" ? functionsOf(tools) : undefined;
    const state = chatWrapper.generateContextState({ chatHistory: history, ...(functions ? { availableFunctions: functions, documentFunctionParams: true } : {}) });
    const rendered = state.contextText.tokenize(model.tokenizer);
    const run: Run = (seq, grammar, maxTokens, hooks) => {
      if (req.topLogprobs !== undefined) return logprobRun(req, seq, rendered, grammar, maxTokens, hooks, state.stopGenerationTriggers.map((t) => t.toString()));
      const chat = new LlamaChat({ contextSequence: seq, chatWrapper, autoDisposeSequence: false });
      const base = { ...common(req), ...textHooks(hooks), maxTokens };
      if (functions && !grammar) {
        // Calls are streamed as node-llama-cpp generates them; each callIndex is one tool call.
        const ids: string[] = [];
        const argLength: number[] = [];
        return chat
          .generateResponse(history, {
            ...base,
            functions,
            documentFunctionParams: true,
            ...(req.parallelToolCalls === false ? { maxParallelFunctionCalls: 1 } : {}),
            onFunctionCallParamsChunk: (c) => {
              const first = ids[c.callIndex] === undefined;
              if (first) ids[c.callIndex] = newToolCallId();
              argLength[c.callIndex] = (argLength[c.callIndex] ?? 0) + c.paramsChunk.length;
              // A function without parameters streams nothing: its arguments are "{}".
              const delta = c.done && argLength[c.callIndex] === 0 ? "{}" : c.paramsChunk;
              if (first || delta) hooks.emit({ type: "tool_call", index: c.callIndex, ...(first ? { id: ids[c.callIndex], name: c.functionName } : {}), argumentsDelta: delta });
            },
          })
          .finally(() => chat.dispose({ disposeSequence: false }));
      }
      return chat.generateResponse(history, { ...base, ...(grammar ? { grammar } : {}) }).finally(() => chat.dispose({ disposeSequence: false }));
    };
    return { req, promptTokens: rendered.length, run };
  }

  return {
    kind: "llama",
    maxPromptBytes: bounds.maxPromptBytes,
    async listModels(): Promise<readonly ModelInfo[]> {
      return [{ id: modelId, ownedBy: "cloister", created, maxModelLen: context.contextSize }];
    },
    complete(req: CompletionRequest): AsyncGenerator<GenerationEvent> {
      return generate(() => completionPlan(req));
    },
    chat(req: ChatRequest): AsyncGenerator<GenerationEvent> {
      return generate(() => chatPlan(req));
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

/** The hooks LlamaChat/LlamaCompletion take (`emit` is ours). */
function textHooks(h: GenerateHooks): Omit<GenerateHooks, "emit"> {
  return { onTextChunk: h.onTextChunk, onToken: h.onToken, signal: h.signal, stopOnAbortSignal: h.stopOnAbortSignal };
}

function sampling(req: SamplingParams): { temperature?: number; topP?: number; seed?: number; customStopTriggers?: string[] } {
  return {
    ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
    ...(req.topP === undefined ? {} : { topP: req.topP }),
    ...(req.seed === undefined ? {} : { seed: req.seed }),
    ...(req.stop && req.stop.length > 0 ? { customStopTriggers: [...req.stop] } : {}),
  };
}
