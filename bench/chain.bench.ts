/**
 * The gateway's own cost, in one process: the production node (`cloister up --upstream`,
 * the built dist, started in this process through the CLI's `main`) against the same
 * forwarding on the gateway's stack with no features (./hono-proxy.ts: hono on
 * @hono/node-server and the gateway's upstream client), both in front of one canned
 * upstream (test/fixtures/upstream-server.ts) and driven by one client, all in this
 * process, over loopback sockets.
 *
 * Why one process: across processes (bench/gateway.bench.ts) two starts of the same build
 * differ by ~50 µs per completion (each process makes its own JIT decisions) and every
 * hop costs a cross-CPU wake-up, so a change smaller than that cannot be shown there.
 * Here the client, the upstream, hono and undici are the same code, warmed once, on one
 * event loop: what differs between sides is only their own work. CPU per completion is
 * process.cpuUsage() (every thread: the store's writer, V8's helpers), so each side's
 * figure includes the client's and the upstream's, and the difference to "direct" is the
 * side's own. Latency here has no wake-ups in it (one thread does everything), so it is
 * a CPU figure too; end-to-end latency is bench/gateway.bench.ts's job.
 *
 * BENCH_BASELINE=DIR (or NAME=DIR,NAME=DIR): gateways built in other checkouts, as sides
 * (before/after in one run; see bench/gateway.bench.ts). BENCH_CHAIN_ROUNDS (default 5),
 * BENCH_CHAIN_REQUESTS per round and side (default 1500), BENCH_WARMUP (default 3000).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { CliIO } from "../src/cli/io.js";
import { startUpstreamServer } from "../test/fixtures/upstream-server.js";
import { baselinesFromEnv } from "./gateway.bench.js";
import { root } from "./gateway-procs.js";
import { createClient } from "./http-load.js";
import { honoProxyApp } from "./hono-proxy.js";
import { fmt, percentile } from "./stats.js";

const ROUNDS = Number(process.env["BENCH_CHAIN_ROUNDS"] ?? 5);
const REQUESTS = Number(process.env["BENCH_CHAIN_REQUESTS"] ?? 1500);
const WARMUP = Number(process.env["BENCH_WARMUP"] ?? 3000);

type Main = (argv: string[], io: CliIO) => Promise<number>;

interface Side {
  readonly name: string;
  readonly url: string;
  readonly stop: () => Promise<void>;
  readonly cpu: number[];
  readonly p50: number[];
}

/** `cloister up --upstream` from a built checkout, in this process; resolves once it serves. */
async function startNode(checkout: string, upstream: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const mod: { main?: Main } = await import(pathToFileURL(join(checkout, "dist", "cli", "main.js")).href);
  const main = mod.main;
  if (!main) throw new Error(`${checkout}: dist/cli/main.js exports no main (build it: npx tsc -p tsconfig.build.json)`);
  const stop = new AbortController();
  const dataDir = mkdtempSync(join(tmpdir(), "cloister-chain-"));
  let announced: (url: string) => void = () => undefined;
  const url = new Promise<string>((resolve) => (announced = resolve));
  const errors: string[] = [];
  const io: CliIO = {
    out: (t) => {
      const m = /at (http:\/\/[^ ]+)\/v1/.exec(t);
      if (m?.[1]) announced(m[1]);
    },
    err: (t) => void errors.push(t),
    env: { ...process.env, CLOISTER_THREADS: "1" },
    cwd: checkout,
    signal: stop.signal,
  };
  const exited = main(["up", "--upstream", upstream, "--no-auth", "--tee", "simulated", "--port", "0", "--data-dir", dataDir, "--log-level", "warn", "--max-concurrent", "256"], io);
  const first = await Promise.race([url, exited.then((code) => new Error(`up exited ${code}: ${errors.join(" ")}`))]);
  if (first instanceof Error) throw first;
  return { url: first, stop: async () => (stop.abort(), void (await exited)) };
}

async function startFloor(upstream: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const app = honoProxyApp(upstream);
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server)) as Server;
  });
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

export interface ChainFigures {
  readonly rounds: number;
  readonly requests: number;
  /** Medians over rounds: µs of this process's CPU per completion, and the p50 in ms. */
  readonly sides: ReadonlyArray<{ readonly name: string; readonly cpuUs: number; readonly p50Ms: number }>;
}

export async function measureChain(opts: { rounds?: number; requests?: number } = {}): Promise<ChainFigures> {
  const rounds = opts.rounds ?? ROUNDS;
  const n = opts.requests ?? REQUESTS;
  const up = await startUpstreamServer({ port: 0 });
  const upstream = `http://127.0.0.1:${up.port}`;
  const client = createClient(4);
  const sides: Side[] = [];
  const add = (name: string, s: { url: string; stop: () => Promise<void> }): void => void sides.push({ name, ...s, cpu: [], p50: [] });
  try {
    add("direct", { url: upstream, stop: async () => undefined });
    add("hono floor", await startFloor(upstream));
    add("gateway", await startNode(root, upstream));
    for (const [name, dir] of baselinesFromEnv()) add(`gateway (${name})`, await startNode(dir, upstream));
    const payload = JSON.stringify({ model: "canned", messages: [{ role: "user", content: "Tell me a story." }], stream: false });
    const run = async (s: Side, count: number): Promise<number[]> => {
      const url = `${s.url}/v1/chat/completions`;
      const out: number[] = [];
      for (let i = 0; i < count; i++) {
        const r = await client.post(url, payload);
        if (!r.ok) throw new Error(`${s.name}: a completion failed`);
        out.push(r.totalMs);
      }
      return out;
    };
    for (const s of sides) await run(s, WARMUP);
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < sides.length; i++) {
        const s = sides[(i + round) % sides.length] as Side;
        const c0 = process.cpuUsage();
        const lat = await run(s, n);
        const c = process.cpuUsage(c0);
        s.cpu.push((c.user + c.system) / n);
        s.p50.push(percentile(lat, 50));
      }
    }
    return { rounds, requests: n, sides: sides.map((s) => ({ name: s.name, cpuUs: percentile(s.cpu, 50), p50Ms: percentile(s.p50, 50) })) };
  } finally {
    client.close();
    for (const s of sides) await s.stop();
    await up.close();
  }
}

export async function run(): Promise<void> {
  const f = await measureChain();
  const direct = f.sides[0];
  const floor = f.sides[1];
  if (!direct || !floor) return;
  console.log(`one process (client, canned upstream and every side on one event loop, loopback sockets); medians of ${f.rounds} rotated rounds of ${f.requests} sequential completions; CPU = process.cpuUsage, all threads`);
  console.log(`  side                 CPU/completion   own (above direct)   p50`);
  for (const s of f.sides) {
    const own = s === direct ? "" : `${(s.cpuUs - direct.cpuUs).toFixed(0)} µs`;
    console.log(`  ${s.name.padEnd(19)}  ${`${s.cpuUs.toFixed(0)} µs`.padStart(14)}   ${own.padStart(18)}   ${fmt(s.p50Ms).padStart(8)}`);
  }
  for (const s of f.sides.slice(2)) {
    const features = s.cpuUs - floor.cpuUs;
    console.log(`  ${s.name}: features above the hono floor ${features.toFixed(0)} µs CPU per completion (${(s.cpuUs - direct.cpuUs).toFixed(0)} µs own in all, ${((s.cpuUs - direct.cpuUs) / (floor.cpuUs - direct.cpuUs)).toFixed(2)}x the floor's own)`);
  }
}
