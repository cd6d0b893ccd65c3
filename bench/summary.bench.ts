/**
 * One table of the ratios issue 8 asks for, measured in this one run (short settings, so
 * the default `npm run bench` stays a few minutes on two shared cores):
 *   - gateway vs direct (canned upstream): req/s, p50/p99 added, streamed tok/s, and the
 *     gateway's CPU per completion (from /proc: transfers to other hardware better than
 *     wall time on a loaded box)
 *     next to a bare node:http proxy (./bare-proxy.ts): the floor any Node gateway starts from
 *   - embedded (createLlamaBackend) vs bare node-llama-cpp tokens/s, same threads
 *   - the gateway's own CPU per completion against the hono floor's, all in one process
 *     (./chain.bench.ts: no cross-process noise, so it resolves changes of ~10–20 µs)
 *   - a forced tool call, the Responses API and logprobs vs plain chat (ms per token)
 * The full benches (`npm run bench -- gateway inference api`) run longer with more rounds.
 * BENCH_BASELINE=DIR adds a gateway built in another checkout (before/after in one run).
 */
import { cpus, loadavg } from "node:os";
import { measureApi } from "./api.bench.js";
import { measureChain } from "./chain.bench.js";
import { baselinesFromEnv, measureGateway } from "./gateway.bench.js";
import { measureEmbedded } from "./inference.bench.js";
import { fmt } from "./stats.js";

const us = (s: number): string => `${(s * 1e6).toFixed(0)} µs`;

export async function run(): Promise<void> {
  const rows: Array<[string, string, string]> = [];
  const load0 = loadavg()[0] ?? NaN;

  const g = await measureGateway({ rounds: Number(process.env["BENCH_ROUNDS"] ?? 3), requests: Number(process.env["BENCH_REQUESTS"] ?? 300), roundMs: Number(process.env["BENCH_ROUND_MS"] ?? 1500), baselines: baselinesFromEnv() });
  const d = g.sides[0];
  if (d) {
    for (const s of g.sides.slice(1)) {
      const floor = s.name === "bare proxy";
      const tag = s.name === "gateway" ? "gateway" : floor ? "bare node:http proxy (floor)" : `gateway (${s.name})`;
      // The floor is a reference, not a gateway: the goals belong to the gateway rows.
      const goal = (text: string): string => (floor ? "" : `; goal ${text}`);
      rows.push([`${tag} / direct: req/s (c=4)`, (s.rps / d.rps).toFixed(2), `${s.rps.toFixed(0)} vs ${d.rps.toFixed(0)}${goal(">= 0.90")}`]);
      rows.push([`${tag}: p50 added (c=1)`, fmt(s.p50 - d.p50), `${fmt(s.p50)} vs ${fmt(d.p50)}${goal("< 0.5 ms")}`]);
      rows.push([`${tag}: p99 added (c=1)`, fmt(s.p99 - d.p99), `${fmt(s.p99)} vs ${fmt(d.p99)}`]);
      rows.push([`${tag} / direct: streamed tok/s (c=4)`, (s.tok / d.tok).toFixed(2), `${s.tok.toFixed(0)} vs ${d.tok.toFixed(0)}`]);
      rows.push([`${tag}: CPU per completion`, us(s.cpu), `non-streamed; per stream ${us(s.streamCpu)}; the upstream's own ${us(d.upCpu)}${goal("<= 0.5 ms")}`]);
    }
    if (g.sides.some((s) => s.errors > 0)) rows.push(["gateway: errors", String(g.sides.reduce((a, s) => a + s.errors, 0)), "goal 0"]);
  }

  // The same gateway in one process with its floor (./chain.bench.ts): its features' CPU without cross-process noise.
  const ch = await measureChain({ rounds: Number(process.env["BENCH_CHAIN_ROUNDS"] ?? 3), requests: Number(process.env["BENCH_CHAIN_REQUESTS"] ?? 1000) });
  const [direct, floor] = ch.sides;
  if (direct && floor) {
    for (const s of ch.sides.slice(2)) {
      const own = s.cpuUs - direct.cpuUs;
      const floorOwn = floor.cpuUs - direct.cpuUs;
      rows.push([`${s.name} / hono floor: own CPU, one process`, (own / floorOwn).toFixed(2), `${own.toFixed(0)} vs ${floorOwn.toFixed(0)} µs per completion; the features: ${(s.cpuUs - floor.cpuUs).toFixed(0)} µs (bench/chain.bench.ts)`]);
    }
  }

  const e = await measureEmbedded(Number(process.env["BENCH_EMBEDDED_ROUNDS"] ?? 25), 200);
  rows.push(["embedded / bare node-llama-cpp: tok/s", e.ratio.toFixed(3), `median of ${e.rounds} per-round pairs (quartiles ${e.ratioP25.toFixed(3)}–${e.ratioP75.toFixed(3)}; ratio of medians ${(e.ours / e.bare).toFixed(3)}: ${e.ours.toFixed(0)} vs ${e.bare.toFixed(0)} tok/s), ${e.model}, 1 thread; goal >= 0.95`]);

  const a = await measureApi(Number(process.env["BENCH_API_ROUNDS"] ?? 5));
  if (a) {
    const chat = a.sides[0];
    for (const s of a.sides.slice(1)) if (chat) rows.push([`${s.name} / plain chat: ms per token`, (s.msPerToken / chat.msPerToken).toFixed(2), `${s.msPerToken.toFixed(3)} vs ${chat.msPerToken.toFixed(3)} ms/token (${s.msPerRequest.toFixed(1)} vs ${chat.msPerRequest.toFixed(1)} ms/request)`]);
  } else rows.push(["tool call / Responses vs chat", "skipped", "../shared/models/stories260K.gguf missing"]);

  console.log(`summary: ratios measured in this run; ${cpus().length} cores, load avg ${load0.toFixed(1)} at start, ${(loadavg()[0] ?? NaN).toFixed(1)} at end`);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`  ${"what".padEnd(w0)}  ${"ratio".padStart(w1)}  figures`);
  for (const [k, v, why] of rows) console.log(`  ${k.padEnd(w0)}  ${v.padStart(w1)}  ${why}`);
}
