/**
 * Generation with log probabilities (OpenAI `logprobs` / `top_logprobs`). LlamaChat and
 * LlamaCompletion do not report probabilities, so when they are asked for the rendered
 * prompt is evaluated token by token with `evaluateWithMetadata` (the same sampler:
 * temperature, top_p, seed, grammar, penalties, bias). The probabilities are the ones
 * llama.cpp reports after the request's sampling options: with temperature 0 the model's
 * full softmax; with temperature > 0 top-k/top-p may leave fewer than `top_logprobs`
 * candidates with a non-zero probability, and only those are listed.
 */
import { LlamaGrammarEvaluationState, type LlamaContextSequence, type LlamaGrammar, type LlamaModel, type Token, type TokenBias } from "node-llama-cpp";
import type { TokenLogprob } from "../backend.js";

export interface LogprobRun {
  readonly seq: LlamaContextSequence;
  readonly model: LlamaModel;
  readonly prompt: readonly Token[];
  readonly maxTokens: number;
  readonly topLogprobs: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly seed?: number;
  readonly grammar?: LlamaGrammar;
  readonly tokenBias?: TokenBias;
  readonly frequencyPenalty?: number;
  readonly presencePenalty?: number;
  readonly stop: readonly string[];
  readonly signal: AbortSignal;
  readonly onToken: (tokens: Token[]) => void;
  readonly emit: (text: string, logprobs: readonly TokenLogprob[]) => void;
}

const enc = new TextEncoder();
const bytesOf = (s: string): number[] => Array.from(enc.encode(s));
// JSON has no -Infinity; OpenAI reports -9999 for "as good as impossible".
const logOf = (p: number): number => (p > 0 ? Math.log(p) : -9999);

export async function generateWithLogprobs(r: LogprobRun): Promise<{ metadata: { stopReason: "eogToken" | "maxTokens" | "abort" | "customStopTrigger" } }> {
  const generated: Token[] = [];
  const grammarEvaluationState = r.grammar ? new LlamaGrammarEvaluationState({ model: r.model, grammar: r.grammar }) : undefined;
  const penalised = r.frequencyPenalty !== undefined || r.presencePenalty !== undefined;
  const it = r.seq.evaluateWithMetadata(
    [...r.prompt],
    { confidence: true, probabilities: true },
    {
      ...(r.temperature === undefined ? {} : { temperature: r.temperature }),
      ...(r.topP === undefined ? {} : { topP: r.topP }),
      ...(r.seed === undefined ? {} : { seed: r.seed }),
      ...(grammarEvaluationState ? { grammarEvaluationState } : {}),
      ...(r.tokenBias ? { tokenBias: r.tokenBias } : {}),
      ...(penalised
        ? { repeatPenalty: { punishTokens: () => generated, penalty: 1, frequencyPenalty: r.frequencyPenalty ?? 0, presencePenalty: r.presencePenalty ?? 0 } }
        : {}),
    },
  );
  // Text is held back while it could still be the start of a stop string.
  let shown = "";
  let pending: { text: string; lp: TokenLogprob }[] = [];
  const flush = (upto?: number): void => {
    if (pending.length === 0) return;
    let text = pending.map((p) => p.text).join("");
    if (upto !== undefined) text = text.slice(0, upto);
    r.emit(text, pending.map((p) => p.lp));
    shown += text;
    pending = [];
  };
  for await (const out of it) {
    if (r.signal.aborted) return { metadata: { stopReason: "abort" } };
    const before = generated.slice(-8);
    generated.push(out.token);
    r.onToken([out.token]);
    const text = r.model.detokenize([out.token], false, before);
    const top = r.topLogprobs > 0
      ? [...out.probabilities.entries()].slice(0, r.topLogprobs).map(([t, p]) => {
          const s = r.model.detokenize([t], false, before);
          return { token: s, logprob: logOf(p), bytes: bytesOf(s) };
        })
      : [];
    pending.push({ text, lp: { token: text, logprob: logOf(out.confidence), bytes: bytesOf(text), top } });
    const tail = pending.map((p) => p.text).join("");
    const all = shown + tail;
    const hit = firstStop(all, r.stop);
    if (hit !== null) {
      flush(Math.max(0, hit - shown.length));
      return { metadata: { stopReason: "customStopTrigger" } };
    }
    if (!r.stop.some((s) => couldStart(all, s))) flush();
    if (generated.length >= r.maxTokens) {
      flush();
      return { metadata: { stopReason: "maxTokens" } };
    }
  }
  flush();
  return { metadata: { stopReason: "eogToken" } };
}

function firstStop(text: string, stops: readonly string[]): number | null {
  let best: number | null = null;
  for (const s of stops) {
    const i = s ? text.indexOf(s) : -1;
    if (i >= 0 && (best === null || i < best)) best = i;
  }
  return best;
}

/** True when the end of `text` is a proper prefix of `stop`. */
function couldStart(text: string, stop: string): boolean {
  for (let n = Math.min(stop.length - 1, text.length); n > 0; n--) if (text.endsWith(stop.slice(0, n))) return true;
  return false;
}
