/**
 * Generation speed by CPU thread count on this machine: 1, 2 and the default the node
 * picks (src/inference/llama/threads.ts), through createLlamaBackend, rounds interleaved.
 * Prints each as a ratio to the best measured here; issue 7 item 15 asks the default to
 * be within 10% of the best.
 */
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { availableParallelism } from "node:os";
import { createLlamaBackend } from "../src/inference/llama/backend.js";
import { defaultThreads, machineCpus } from "../src/inference/llama/threads.js";
import { sharedPath } from "../src/util/shared.js";
import { tinyModelPath } from "../test/fixtures/tiny-gguf.js";
import { percentile } from "./stats.js";

const PROMPT = "Once upon a time";
const MAX_TOKENS = 200;
const ROUNDS = 7;

export async function run(): Promise<void> {
  const stories = sharedPath("models", "stories260K.gguf");
  const modelPath = stories ?? (await tinyModelPath());
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const chosen = defaultThreads(machineCpus(llama.cpuMathCores));
  console.log(`model: ${stories ? "stories260K (../shared)" : "generated tiny model (../shared missing)"}; ${MAX_TOKENS} tokens greedy; logical CPUs ${availableParallelism()}, physical ${llama.cpuMathCores}; default picks ${chosen}`);
  const counts = [...new Set([1, 2, chosen])].sort((a, b) => a - b);
  const backends = await Promise.all(counts.map((threads) => createLlamaBackend({ modelPath, modelId: "bench", parallel: 1, contextSize: 512, threads })));
  const once = async (i: number): Promise<number> => {
    let tokens = 0;
    const t0 = performance.now();
    for await (const e of backends[i]!.complete({ model: "bench", prompt: PROMPT, temperature: 0, maxTokens: MAX_TOKENS })) {
      if (e.type === "done") tokens = e.usage.completionTokens;
    }
    return tokens / ((performance.now() - t0) / 1000);
  };
  for (let i = 0; i < counts.length; i++) await once(i); // warm-up
  const rates: number[][] = counts.map(() => []);
  for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < counts.length; i++) rates[i]!.push(await once(i));
  const medians = rates.map((r) => percentile(r, 50));
  const best = Math.max(...medians);
  for (const [i, n] of counts.entries()) {
    const m = medians[i]!;
    console.log(`threads ${n}${n === chosen ? " (default)" : ""}: ${m.toFixed(0)} tok/s median (p10 ${percentile(rates[i]!, 10).toFixed(0)} – p90 ${percentile(rates[i]!, 90).toFixed(0)}); ratio to best ${(m / best).toFixed(3)}`);
  }
  await Promise.all(backends.map((b) => b.close()));
}
