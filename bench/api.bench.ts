/**
 * The cost of the newer API surfaces against plain chat, on the embedded backend
 * (stories260K, 1 thread) through the real HTTP server and the whole middleware chain:
 *   - a forced tool call (tool_choice named: grammar-constrained arguments)
 *   - POST /v1/responses (translation + the Responses object)
 *   - chat with logprobs (top_logprobs 5: token-by-token evaluation with probabilities)
 * Rounds are interleaved; each figure is the median ms per generated token (answers end
 * at different lengths), and the ratio is against plain chat in the same run.
 */
import { createLlamaBackend } from "../src/inference/llama/backend.js";
import { createGateway } from "../src/gateway/app.js";
import { startServer } from "../src/gateway/server.js";
import { createSimulatorProvider } from "../src/attest/simulator/provider.js";
import { openSqliteStore } from "../src/store/sqlite.js";
import { sharedPath } from "../src/util/shared.js";
import { percentile } from "./stats.js";

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 15);
const MAX = 48;
const tool = { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: "string", enum: ["c", "f"] } }, required: ["city", "unit"] } } };

export interface ApiFigures {
  readonly rounds: number;
  /** Per side: median ms per generated token, ms per request, tokens of the last answer. */
  readonly sides: ReadonlyArray<{ readonly name: string; readonly msPerToken: number; readonly msPerRequest: number; readonly tokens: number }>;
}

/** Interleaved rounds of plain chat, a forced tool call, the Responses API and logprobs; null without the model. */
export async function measureApi(rounds = ROUNDS): Promise<ApiFigures | null> {
  const ROUNDS = rounds;
  const stories = sharedPath("models", "stories260K.gguf");
  if (!stories) return null;
  const backend = await createLlamaBackend({ modelPath: stories, threads: 1, parallel: 1, contextSize: 1024 });
  const store = openSqliteStore({ path: ":memory:" });
  const server = await startServer(createGateway({ backend, tee: createSimulatorProvider(), store, authRequired: false }), { host: "127.0.0.1", port: 0 });
  const messages = [{ role: "user", content: "Once upon a time" }];
  const sides: Record<string, [path: string, body: unknown, tokens: (j: Record<string, unknown>) => number]> = {
    chat: ["/v1/chat/completions", { model: "stories260K", messages, max_tokens: MAX, temperature: 0 }, chatTokens],
    "tool call (named)": ["/v1/chat/completions", { model: "stories260K", messages, max_tokens: MAX, temperature: 0, tools: [tool], tool_choice: { type: "function", function: { name: "get_weather" } } }, chatTokens],
    "responses API": ["/v1/responses", { model: "stories260K", input: "Once upon a time", max_output_tokens: MAX, temperature: 0 }, (j) => Number((j["usage"] as { output_tokens: number }).output_tokens)],
    "chat + logprobs(5)": ["/v1/chat/completions", { model: "stories260K", messages, max_tokens: MAX, temperature: 0, logprobs: true, top_logprobs: 5 }, chatTokens],
  };
  const perToken: Record<string, number[]> = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  const perRequest: Record<string, number[]> = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  const tokenCounts: Record<string, number> = {};
  try {
    for (let r = 0; r < ROUNDS + 2; r++) {
      for (const [name, [path, body, tokens]] of Object.entries(sides)) {
        const t0 = performance.now();
        const res = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        const j = (await res.json()) as Record<string, unknown>;
        const ms = performance.now() - t0;
        if (!res.ok) throw new Error(`${name}: ${res.status} ${JSON.stringify(j)}`);
        if (r < 2) continue; // two warm-up rounds
        perToken[name]?.push(ms / Math.max(1, tokens(j)));
        perRequest[name]?.push(ms);
        tokenCounts[name] = tokens(j);
      }
    }
  } finally {
    await server.close({ drainMs: 100 });
    await backend.close();
    await store.close();
  }
  return {
    rounds: ROUNDS,
    sides: Object.entries(perToken).map(([name, samples]) => ({ name, msPerToken: percentile(samples, 50), msPerRequest: percentile(perRequest[name] ?? [], 50), tokens: tokenCounts[name] ?? 0 })),
  };
}

export async function run(): Promise<void> {
  const f = await measureApi();
  if (!f) return void console.log("skipped: ../shared/models/stories260K.gguf missing");
  const base = f.sides[0]?.msPerToken ?? NaN;
  console.log(`embedded stories260K, 1 thread, ${MAX} tokens max, ${f.rounds} interleaved rounds; median ms per generated token (ratio to plain chat)`);
  for (const s of f.sides) console.log(`  ${s.name.padEnd(20)} ${s.msPerToken.toFixed(3)} ms/token  x${(s.msPerToken / base).toFixed(2)}   (${s.msPerRequest.toFixed(1)} ms/request, ${s.tokens} tokens)`);
}

function chatTokens(j: Record<string, unknown>): number {
  return Number((j["usage"] as { completion_tokens: number }).completion_tokens);
}
