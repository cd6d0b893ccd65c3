/**
 * Gateway overhead: the node in upstream mode (`bin/cloister.js up`, built dist, its own
 * process, as in production) versus calling the same upstream fixture process directly.
 * Rounds are interleaved (direct, gateway, direct, gateway, …) and each figure is the
 * median over rounds, so neither side gets a warmer or quieter machine. Reported:
 *   - p50/p99 latency of non-streamed chat completions, one at a time (added = difference)
 *   - requests/s, non-streamed, at a fixed concurrency (BENCH_CONCURRENCY, default 4)
 *   - streamed tokens/s (content chunks received) at the same concurrency
 *   - CPU time per request of the gateway and of the upstream (from /proc), which is the
 *     number that transfers to other hardware: on two shared cores the load generator,
 *     the gateway and the upstream all compete, so wall-clock ratios mostly measure that
 *   - a "realistic upstream" row: canned-slow streams (20 ms per token), time to first
 *     token and total, i.e. the added latency against a generating model
 * then a bounded load test: many concurrent slow streams for BENCH_LOAD_SECONDS (default
 * 20), counting errors and sampling the gateway's RSS and heap from its /metrics.
 * Goals (issue 3): < 1 ms p50 added, >= 90% of direct throughput, no errors, flat memory.
 * BENCH_HONO_FLOOR=1 adds "hono proxy" (./hono-proxy.ts): the floor's work on the gateway's
 * framework and upstream client, so framework cost and feature cost show apart.
 * BENCH_GATEWAY_PROF=DIR writes a V8 CPU profile of the gateway there (node --cpu-prof);
 * BENCH_GATEWAY_CHECKOUT=DIR runs "gateway" from another built checkout.
 * BENCH_BASELINE=DIR (or NAME=DIR,NAME=DIR) adds sides: the gateway built in other
 * checkouts (e.g. `git archive <commit> | tar -x -C DIR`, link node_modules, `npx tsc -p
 * tsconfig.build.json`), interleaved with the others, for before/after in one run.
 */
import { cpus, loadavg } from "node:os";
import { createClient, processCpuSeconds, type PostResult } from "./http-load.js";
import { root, startBareProxy, startGateway, startHonoProxy, startUpstream, stopAll, type Proc } from "./gateway-procs.js";
import { fmt, percentile } from "./stats.js";

const CONCURRENCY = Number(process.env["BENCH_CONCURRENCY"] ?? 4);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
/** Sequential requests per side before the rounds (BENCH_WARMUP). */
const WARMUP = Number(process.env["BENCH_WARMUP"] ?? 3000);
const body = (model: string, stream: boolean, maxTokens?: number): string =>
  JSON.stringify({ model, messages: [{ role: "user", content: "Tell me a story." }], stream, ...(maxTokens ? { max_tokens: maxTokens } : {}) });

type Client = ReturnType<typeof createClient>;
const median = (xs: readonly number[]): number => percentile(xs, 50);
const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;
const us = (s: number): string => `${(s * 1e6).toFixed(0)} µs`;

/** CPU seconds a process spends while `fn` runs. */
async function withCpu<T>(proc: Proc, fn: () => Promise<T>): Promise<{ r: T; cpu: number }> {
  const c0 = processCpuSeconds(proc.child.pid);
  const r = await fn();
  return { r, cpu: processCpuSeconds(proc.child.pid) - c0 };
}

async function sequential(client: Client, url: string, payload: string, n: number): Promise<PostResult[]> {
  const out: PostResult[] = [];
  for (let i = 0; i < n; i++) out.push(await client.post(url, payload));
  return out;
}

async function throughput(client: Client, url: string, payload: string, ms: number, concurrency: number): Promise<{ done: number; perSec: number; chunksPerSec: number; errors: number }> {
  const end = performance.now() + ms;
  let done = 0;
  let chunks = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const r = await client.post(url, payload);
        if (r.ok) done++;
        else errors++;
        chunks += r.chunks;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return { done, perSec: done / secs, chunksPerSec: chunks / secs, errors };
}

async function memory(base: string): Promise<{ rss: number; heap: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const num = (name: string): number => Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? NaN);
  return { rss: num("process_resident_memory_bytes"), heap: num("nodejs_heap_size_used_bytes") };
}

interface Side {
  readonly name: string;
  readonly proc: Proc;
  readonly p50: number[];
  readonly p99: number[];
  readonly rps: number[];
  /** CPU per request of the gateway (direct: of the upstream). */
  readonly cpu: number[];
  readonly upCpu: number[];
  readonly tok: number[];
  readonly streamCpu: number[];
  readonly slowFirst: number[];
  readonly slowTotal: number[];
  readonly slowTok: number[];
  errors: number;
}
const side = (name: Side["name"], proc: Proc): Side => ({ name, proc, p50: [], p99: [], rps: [], cpu: [], upCpu: [], tok: [], streamCpu: [], slowFirst: [], slowTotal: [], slowTok: [], errors: 0 });

export interface GatewayFigures {
  /** Medians over rounds, per side (the first is "direct"). */
  readonly sides: ReadonlyArray<{ readonly name: string; readonly p50: number; readonly p99: number; readonly rps: number; readonly cpu: number; readonly upCpu: number; readonly tok: number; readonly streamCpu: number; readonly slowFirst: number; readonly slowTotal: number; readonly slowTok: number; readonly errors: number }>;
  readonly rounds: number;
  readonly load: number;
}

export interface GatewayOptions {
  readonly rounds?: number;
  /** Sequential requests per round for p50/p99. */
  readonly requests?: number;
  /** ms per throughput phase. */
  readonly roundMs?: number;
  /** Also measure canned-slow streams (20 tokens at 20 ms). */
  readonly slow?: boolean;
  /** Extra gateway sides: [name, built checkout]. */
  readonly baselines?: ReadonlyArray<readonly [string, string]>;
  /** Runs against the gateway (e.g. the load test) before the processes stop. */
  readonly after?: (client: Client, gatewayUrl: string) => Promise<void>;
}

/** Interleaved, rotated rounds of direct vs gateway (vs baselines); medians per side. */
export async function measureGateway(opts: GatewayOptions = {}): Promise<GatewayFigures> {
  const rounds = opts.rounds ?? ROUNDS;
  const baselines = opts.baselines ?? [];
  const up = await startUpstream();
  const gw = await startGateway(up.url, process.env["BENCH_GATEWAY_CHECKOUT"] ?? root, process.env["BENCH_GATEWAY_PROF"]);
  const others: Side[] = [];
  for (const [name, dir] of baselines) others.push(side(name, await startGateway(up.url, dir)));
  const bare = await startBareProxy(up.url);
  // BENCH_HONO_FLOOR=1: the floor on the gateway's own framework and upstream client too.
  if (process.env["BENCH_HONO_FLOOR"] === "1") others.push(side("hono proxy", await startHonoProxy(up.url)));
  const sides = [side("direct", up), side("gateway", gw), side("bare proxy", bare), ...others];
  const client = createClient(Math.max(CONCURRENCY, 64));
  const chat = (base: string): string => `${base}/v1/chat/completions`;
  try {
    const n = opts.requests ?? 500;
    const ms = opts.roundMs ?? 2000;
    const nonStream = body("canned", false);
    const stream = body("canned", true);
    const slow = body("canned-slow", true, 20);
    // Warm every path (JIT, keep-alive sockets, SQLite pages) before anything counts. Long:
    // at 200 requests the gateway's p50 was still falling round after round (V8 tiers its
    // per-request code up only after thousands of calls; 2.6 -> 1.0 ms over 3,000 requests
    // here), so the rounds measured warm-up, and code that warms up later looked slower.
    for (const s of sides) {
      await sequential(client, chat(s.proc.url), nonStream, WARMUP);
      await throughput(client, chat(s.proc.url), nonStream, 1000, CONCURRENCY);
      await throughput(client, chat(s.proc.url), stream, 1000, CONCURRENCY);
    }
    for (let round = 0; round < rounds; round++) {
      // Rotate which side goes first, so a drift in machine load hits all alike.
      const order = sides.map((_, i) => sides[(i + round) % sides.length] as Side);
      for (const s of order) {
        const url = chat(s.proc.url);
        const l = (await sequential(client, url, nonStream, n)).map((r) => r.totalMs);
        s.p50.push(percentile(l, 50));
        s.p99.push(percentile(l, 99));

        const up0 = processCpuSeconds(up.child.pid);
        const t = await withCpu(s.proc, () => throughput(client, url, nonStream, ms, CONCURRENCY));
        s.errors += t.r.errors;
        s.rps.push(t.r.perSec);
        s.cpu.push(t.cpu / t.r.done);
        s.upCpu.push((processCpuSeconds(up.child.pid) - up0) / t.r.done);

        const st = await withCpu(s.proc, () => throughput(client, url, stream, ms, CONCURRENCY));
        s.errors += st.r.errors;
        s.tok.push(st.r.chunksPerSec);
        s.streamCpu.push(st.cpu / st.r.done);

        if (!opts.slow) continue;
        const sl = await sequential(client, url, slow, 3);
        s.slowFirst.push(median(sl.map((r) => r.firstByteMs)));
        s.slowTotal.push(median(sl.map((r) => r.totalMs)));
        const slt = await throughput(client, url, slow, ms, 16);
        s.errors += slt.errors;
        s.slowTok.push(slt.chunksPerSec);
      }
    }
    const load = loadavg()[0] ?? NaN;
    await opts.after?.(client, gw.url);
    const m = (xs: number[]): number => (xs.length ? median(xs) : NaN);
    return {
      rounds,
      load,
      sides: sides.map((s) => ({ name: s.name, p50: m(s.p50), p99: m(s.p99), rps: m(s.rps), cpu: m(s.cpu), upCpu: m(s.upCpu), tok: m(s.tok), streamCpu: m(s.streamCpu), slowFirst: m(s.slowFirst), slowTotal: m(s.slowTotal), slowTok: m(s.slowTok), errors: s.errors })),
    };
  } finally {
    client.close();
    await stopAll([gw, bare, up, ...others.map((o) => o.proc)]);
  }
}

/** BENCH_BASELINE=DIR (or NAME=DIR,NAME=DIR): gateways built in other checkouts. */
export function baselinesFromEnv(): Array<[string, string]> {
  return (process.env["BENCH_BASELINE"] ?? "").split(",").filter(Boolean).map((b) => (b.includes("=") ? b.split("=", 2) : ["before", b]) as [string, string]);
}

export async function run(): Promise<void> {
  const baselines = baselinesFromEnv();
  const loadSecs = Number(process.env["BENCH_LOAD_SECONDS"] ?? 20);
  let loadLines: string[] = [];
  const f = await measureGateway({
    requests: Number(process.env["BENCH_REQUESTS"] ?? 500),
    roundMs: Number(process.env["BENCH_ROUND_MS"] ?? 2000),
    slow: true,
    baselines,
    after: async (client, url) => void (loadLines = await loadTest(client, url, loadSecs)),
  });
  const d = f.sides[0];
  if (!d) return;
  console.log(`medians of ${f.rounds} rotated rounds; concurrency ${CONCURRENCY}; gateway = built dist${baselines.map(([k, v]) => `, ${k} = ${v}`).join("")}; upstream = test/fixtures/upstream-server.ts; ${cpus().length} cores, load avg ${f.load.toFixed(1)}`);
  console.log(`                     p50       p99       added p50  req/s  ratio  CPU/req (upstream)  tok/s  ratio  CPU/stream  slow: 1st tok  whole     tok/s@16  errors`);
  for (const s of f.sides) {
    const added = s === d ? "" : fmt(s.p50 - d.p50);
    console.log(
      `  ${s.name.padEnd(10)}  ${fmt(s.p50).padStart(9)} ${fmt(s.p99).padStart(9)} ${added.padStart(10)}  ${s.rps.toFixed(0).padStart(6)} ${(s.rps / d.rps).toFixed(2).padStart(5)}  ${us(s.cpu).padStart(8)} (${us(s.upCpu)})  ${s.tok.toFixed(0).padStart(6)} ${(s.tok / d.tok).toFixed(2).padStart(5)}  ${us(s.streamCpu).padStart(9)}  ${fmt(s.slowFirst).padStart(9)} ${fmt(s.slowTotal).padStart(9)}  ${s.slowTok.toFixed(0).padStart(6)}  ${s.errors}`,
    );
  }
  console.log(`  goals: added p50 < 1 ms (issue 8: < 0.5 ms), req/s ratio >= 0.90; CPU/req of "direct" is the upstream's own; slow = canned-slow, 20 tokens at 20 ms`);
  for (const l of loadLines) console.log(l);
}

/** Many concurrent slow streams through the gateway: errors and memory over time. */
async function loadTest(client: Client, gwUrl: string, loadSecs: number): Promise<string[]> {
  const chat = (base: string): string => `${base}/v1/chat/completions`;
  const gw = { url: gwUrl };
  const lines: string[] = [];
  {
    if (loadSecs <= 0) return lines;
    const streams = Number(process.env["BENCH_LOAD_STREAMS"] ?? 64);
    lines.push(`load: ${streams} concurrent streams (canned-slow, 50 tokens at 20 ms) for ${loadSecs} s through the gateway`);
    const end = performance.now() + loadSecs * 1000;
    let completed = 0;
    let errors = 0;
    const samples: Array<{ t: number; rss: number; heap: number }> = [];
    const t0 = performance.now();
    const sampler = setInterval(() => {
      memory(gw.url).then((x) => samples.push({ t: (performance.now() - t0) / 1000, ...x }), () => errors++);
    }, 1000);
    const loadPayload = body("canned-slow", true, 50);
    await Promise.all(
      Array.from({ length: streams }, async () => {
        while (performance.now() < end) {
          const r = await client.post(chat(gw.url), loadPayload);
          if (r.ok && r.chunks === 50) completed++;
          else errors++;
        }
      }),
    );
    clearInterval(sampler);
    const every = Math.max(1, Math.floor(samples.length / 10));
    lines.push(`  streams completed ${completed}, errors ${errors}   (goal: 0 errors)`);
    lines.push(`  memory over time (s: rss / heap): ${samples.filter((_, i) => i % every === 0).map((s) => `${s.t.toFixed(0)}: ${mb(s.rss)} / ${mb(s.heap)}`).join(", ")}`);
    const first = samples[Math.min(2, samples.length - 1)];
    const last = samples.at(-1);
    if (first && last) lines.push(`  rss ${mb(first.rss)} -> ${mb(last.rss)} (ratio ${(last.rss / first.rss).toFixed(2)}), heap ${mb(first.heap)} -> ${mb(last.heap)} (goal: flat)`);
  }
  return lines;
}
