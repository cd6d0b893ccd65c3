/**
 * Gateway overhead: the node in upstream mode (its own process, as in production) versus
 * calling the same upstream fixture process directly, measured in one run:
 *   - p50/p99 latency of non-streamed chat completions, one at a time (added = difference)
 *   - requests/s at concurrency 16
 *   - streamed tokens/s (content chunks received) at concurrency 16
 * then a bounded load test: many concurrent slow streams for BENCH_LOAD_SECONDS (default
 * 20), counting errors and sampling the gateway's RSS and heap from its /metrics.
 * Goals (issue 3): < 1 ms p50 added, >= 90% of direct throughput, no errors, flat memory.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnUpstreamServer } from "../test/fixtures/spawn-upstream.js";
import { fmt, percentile } from "./stats.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const CONCURRENCY = 16;
const body = (model: string, stream: boolean, maxTokens?: number): string =>
  JSON.stringify({ model, messages: [{ role: "user", content: "Tell me a story." }], stream, ...(maxTokens ? { max_tokens: maxTokens } : {}) });

async function startGateway(upstream: string): Promise<{ url: string; child: ChildProcess }> {
  const dataDir = mkdtempSync(join(tmpdir(), "cloister-bench-"));
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(here, "..", "test", "e2e", "node-child.ts"), "up", "--upstream", upstream, "--no-auth", "--tee", "simulated", "--port", "0", "--data-dir", dataDir, "--log-level", "warn", "--max-concurrent", "256"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /at (http:\/\/[^ ]+)\/v1/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`gateway exited ${code}`)));
  });
  return { url, child };
}

async function post(base: string, path: string, payload: string): Promise<{ ok: boolean; chunks: number }> {
  const res = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: payload });
  if (!res.body) return { ok: res.ok, chunks: 0 };
  let chunks = 0;
  const text = await res.text();
  if (res.headers.get("content-type")?.startsWith("text/event-stream")) chunks = (text.match(/"content":"[^"]/g) ?? []).length;
  // A stream that errors mid-way still answers 200: an `error` event is a failure too.
  return { ok: res.ok && !text.includes('"error"'), chunks };
}

async function latencies(base: string, n: number): Promise<number[]> {
  const payload = body("canned", false);
  for (let i = 0; i < 50; i++) await post(base, "/v1/chat/completions", payload);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await post(base, "/v1/chat/completions", payload);
    out.push(performance.now() - t0);
  }
  return out;
}

async function throughput(base: string, payload: string, ms: number): Promise<{ perSec: number; chunksPerSec: number; errors: number }> {
  const end = performance.now() + ms;
  let done = 0;
  let chunks = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const r = await post(base, "/v1/chat/completions", payload).catch(() => ({ ok: false, chunks: 0 }));
        if (r.ok) done++;
        else errors++;
        chunks += r.chunks;
      }
    }),
  );
  return { perSec: (done * 1000) / ms, chunksPerSec: (chunks * 1000) / ms, errors };
}

async function memory(base: string): Promise<{ rss: number; heap: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const num = (name: string): number => Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? NaN);
  return { rss: num("process_resident_memory_bytes"), heap: num("nodejs_heap_size_used_bytes") };
}

const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;

export async function run(): Promise<void> {
  const upstream = await spawnUpstreamServer();
  const gw = await startGateway(upstream.url);
  try {
    const n = Number(process.env["BENCH_REQUESTS"] ?? 500);
    // Interleave the two so neither gets a warmer machine.
    const d1 = await latencies(upstream.url, n);
    const g1 = await latencies(gw.url, n);
    const dp50 = percentile(d1, 50);
    const gp50 = percentile(g1, 50);
    const dp99 = percentile(d1, 99);
    const gp99 = percentile(g1, 99);
    console.log(`latency, non-streamed, 1 at a time (${n} requests each)`);
    console.log(`  direct   p50 ${fmt(dp50)}  p99 ${fmt(dp99)}`);
    console.log(`  gateway  p50 ${fmt(gp50)}  p99 ${fmt(gp99)}`);
    console.log(`  added    p50 ${fmt(gp50 - dp50)}  p99 ${fmt(gp99 - dp99)}   (goal: p50 < 1 ms)`);

    const secs = 3000;
    const dr = await throughput(upstream.url, body("canned", false), secs);
    const gr = await throughput(gw.url, body("canned", false), secs);
    console.log(`requests/s, non-streamed, concurrency ${CONCURRENCY}`);
    console.log(`  direct ${dr.perSec.toFixed(0)}/s  gateway ${gr.perSec.toFixed(0)}/s  ratio ${(gr.perSec / dr.perSec).toFixed(2)}  errors ${dr.errors}/${gr.errors}   (goal: >= 0.90)`);

    const ds = await throughput(upstream.url, body("canned", true), secs);
    const gs = await throughput(gw.url, body("canned", true), secs);
    console.log(`streamed tokens/s, concurrency ${CONCURRENCY}`);
    console.log(`  direct ${ds.chunksPerSec.toFixed(0)} tok/s  gateway ${gs.chunksPerSec.toFixed(0)} tok/s  ratio ${(gs.chunksPerSec / ds.chunksPerSec).toFixed(2)}  errors ${ds.errors}/${gs.errors}`);

    const loadSecs = Number(process.env["BENCH_LOAD_SECONDS"] ?? 20);
    const streams = Number(process.env["BENCH_LOAD_STREAMS"] ?? 64);
    console.log(`load: ${streams} concurrent streams (canned-slow, 50 tokens at 20 ms) for ${loadSecs} s through the gateway`);
    const end = performance.now() + loadSecs * 1000;
    let completed = 0;
    let errors = 0;
    const samples: Array<{ t: number; rss: number; heap: number }> = [];
    const t0 = performance.now();
    const sampler = setInterval(() => {
      memory(gw.url).then((m) => samples.push({ t: (performance.now() - t0) / 1000, ...m }), () => errors++);
    }, 1000);
    await Promise.all(
      Array.from({ length: streams }, async () => {
        while (performance.now() < end) {
          const r = await post(gw.url, "/v1/chat/completions", body("canned-slow", true, 50)).catch(() => ({ ok: false, chunks: 0 }));
          if (r.ok && r.chunks === 50) completed++;
          else errors++;
        }
      }),
    );
    clearInterval(sampler);
    const every = Math.max(1, Math.floor(samples.length / 10));
    console.log(`  streams completed ${completed}, errors ${errors}   (goal: 0 errors)`);
    console.log(`  memory over time (s: rss / heap): ${samples.filter((_, i) => i % every === 0).map((s) => `${s.t.toFixed(0)}: ${mb(s.rss)} / ${mb(s.heap)}`).join(", ")}`);
    const first = samples[Math.min(2, samples.length - 1)];
    const last = samples.at(-1);
    if (first && last) console.log(`  rss ${mb(first.rss)} -> ${mb(last.rss)} (ratio ${(last.rss / first.rss).toFixed(2)}), heap ${mb(first.heap)} -> ${mb(last.heap)} (goal: flat)`);
  } finally {
    gw.child.kill("SIGTERM");
    await upstream.close();
  }
}
