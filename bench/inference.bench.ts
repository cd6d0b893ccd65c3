/**
 * Embedded generation speed: tokens/s through createLlamaBackend (pool, usage counting,
 * async-iterable stream) against node-llama-cpp called bare on the same model, prompt
 * and settings, in the same process. The ratio is the cost of our wrapper.
 */
import { getLlama, LlamaCompletion, LlamaLogLevel } from "node-llama-cpp";
import { createLlamaBackend } from "../src/inference/llama/backend.js";
import { sharedPath } from "../src/util/shared.js";
import { tinyModelPath } from "../test/fixtures/tiny-gguf.js";
import { percentile } from "./stats.js";

const PROMPT = "Once upon a time";
const MAX_TOKENS = 200;
// A round is ~100 ms a side, and single pair ratios spread widely on this shared machine
// (quartiles 0.90–1.09 at load 4): the median of 15 pairs then moves by ±3.6% (one
// standard deviation, resampled), of 40 by ±1.9%. 40 rounds take ~10 s.
const ROUNDS = 40;
const WARMUP_ROUNDS = 8;
const SETTINGS = { threads: 1, contextSize: 512 } as const;

export interface EmbeddedFigures {
  readonly model: string;
  readonly rounds: number;
  readonly bareRates: readonly number[];
  readonly ourRates: readonly number[];
  /** Medians, tokens/s. */
  readonly bare: number;
  readonly ours: number;
  /** Median over rounds of (ours / bare) within the round. */
  readonly ratio: number;
  /** Quartiles of those per-round ratios: how much of a figure is noise. */
  readonly ratioP25: number;
  readonly ratioP75: number;
}

/** createLlamaBackend vs bare node-llama-cpp, same model, prompt, settings and thread count, interleaved rounds. */
export async function measureEmbedded(rounds = ROUNDS, maxTokens = MAX_TOKENS): Promise<EmbeddedFigures> {
  const MAX_TOKENS = maxTokens;
  const stories = sharedPath("models", "stories260K.gguf");
  const modelPath = stories ?? (await tinyModelPath());
  const modelName = stories ? "stories260K (../shared)" : "generated tiny random model (../shared missing)";

  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ sequences: 1, ...SETTINGS });
  const sequence = context.getSequence();
  const bare = async (): Promise<number> => {
    const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
    let tokens = 0;
    const t0 = performance.now();
    // The same sampling as ours: greedy, no repeat penalty (ours passes `false` when none is
    // asked; node-llama-cpp's default samples the same text but does more work per token).
    await completion.generateCompletion(PROMPT, { temperature: 0, maxTokens: MAX_TOKENS, repeatPenalty: false, onToken: (t) => (tokens += t.length), onTextChunk: () => undefined });
    const s = (performance.now() - t0) / 1000;
    completion.dispose({ disposeSequence: false });
    await sequence.clearHistory();
    return tokens / s;
  };

  const backend = await createLlamaBackend({ modelPath, modelId: "bench", parallel: 1, ...SETTINGS });
  const ours = async (): Promise<number> => {
    let tokens = 0;
    const t0 = performance.now();
    for await (const e of backend.complete({ model: "bench", prompt: PROMPT, temperature: 0, maxTokens: MAX_TOKENS })) {
      if (e.type === "done") tokens = e.usage.completionTokens;
    }
    return tokens / ((performance.now() - t0) / 1000);
  };

  // Warm-up, discarded. node-llama-cpp's code is shared by both sides, so every round warms
  // it for both; our own per-token code (the generator, channel and usage counter) is only
  // run by ours, and V8 needs a few thousand calls to optimise it: with one warm-up round,
  // rounds 0–5 of 8 runs had a median pair ratio of 0.91 and rounds 15–39 of 0.99.
  for (let i = 0; i < WARMUP_ROUNDS; i++) {
    await bare();
    await ours();
  }
  const bareRates: number[] = [];
  const ourRates: number[] = [];
  // Interleaved so drift (thermal, other processes) hits both alike.
  // Each round is a pair, run in alternating order; the pair's own ratio cancels the
  // load of that moment, and the median of pair ratios is what the summary reports.
  const pairRatios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let b: number;
    let o: number;
    if (i % 2 === 0) (b = await bare()), (o = await ours());
    else (o = await ours()), (b = await bare());
    bareRates.push(b);
    ourRates.push(o);
    pairRatios.push(o / b);
  }
  await backend.close();
  await context.dispose();
  await model.dispose();
  // Medians: on a shared 2-core machine single rounds swing by 2x.
  return {
    model: modelName,
    rounds,
    bareRates,
    ourRates,
    bare: percentile(bareRates, 50),
    ours: percentile(ourRates, 50),
    ratio: percentile(pairRatios, 50),
    ratioP25: percentile(pairRatios, 25),
    ratioP75: percentile(pairRatios, 75),
  };
}

export async function run(): Promise<void> {
  const f = await measureEmbedded();
  console.log(`model: ${f.model}; ${MAX_TOKENS} tokens, greedy, no repeat penalty, 1 thread, ${f.rounds} rounds`);
  const spread = (r: readonly number[]): string => `p10 ${percentile(r, 10).toFixed(0)} – p90 ${percentile(r, 90).toFixed(0)}`;
  console.log(`node-llama-cpp bare:      ${f.bare.toFixed(0)} tok/s (median; ${spread(f.bareRates)})`);
  console.log(`createLlamaBackend:       ${f.ours.toFixed(0)} tok/s (median; ${spread(f.ourRates)})`);
  console.log(`ratio (ours / bare):      ${(f.ours / f.bare).toFixed(3)} of medians; ${f.ratio.toFixed(3)} median of per-round pairs (p25 ${f.ratioP25.toFixed(3)} – p75 ${f.ratioP75.toFixed(3)})`);
}
