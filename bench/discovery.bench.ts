/**
 * Discovery with 100,000 indexed nodes (issue 9 goal: < 5 ms): the registry indexer filled
 * from 100,000 registrations (SQLite commit, then a restart's load), then nearest-k queries
 * from 1,000 random points for random models, through the indexer and through GET /v1/nodes
 * in process. Baselines in the same process: a bare scan of the array, the linear
 * filter + sort, and the previous latitude-band index (bench/discovery-old-index.ts).
 *
 * Reported: p50/p99 wall time, GC pauses seen during the query loop (PerformanceObserver),
 * and an "intrinsic" p99 (each query point run 3 times, the fastest kept): on a shared
 * machine a preempted query costs tens of ms whatever the code does; the min-of-3 shows
 * what the code itself costs at the tail.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { createSimulatorProvider } from "../src/attest/simulator/provider.js";
import { createGateway } from "../src/gateway/app.js";
import type { NodeRecord } from "../src/ledger/chain.js";
import { rankNodes } from "../src/ledger/discovery.js";
import { openSqliteIndexStore } from "../src/ledger/index-store-sqlite.js";
import { createRegistryIndexer } from "../src/ledger/indexer.js";
import type { RegistryEvent, RegistryFeed } from "../src/ledger/registry-feed.js";
import { modelId, ZERO_HASH, type EvmAddress, type Hex32 } from "../src/ledger/typed-data.js";
import { openSqliteStore } from "../src/store/sqlite.js";
import { fakeBackend } from "../test/e2e/client-fixtures.js";
import { createOldNodeIndex } from "./discovery-old-index.js";
import { fmt, mean, percentile } from "./stats.js";

const N = 100_000;
const MODELS = 20;
const POINTS = 1_000;

export async function run(): Promise<void> {
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const names = Array.from({ length: MODELS }, (_, i) => `model-${i}`);
  const models = names.map((n) => modelId(n));
  const nodes: NodeRecord[] = [];
  for (let i = 0; i < N; i++) {
    const enclave = `0x${(i + 1).toString(16).padStart(40, "0")}` as EvmAddress;
    nodes.push({
      enclave, operator: enclave, payout: enclave, endpoint: `https://n${i}.example`, region: "r", lat: Math.round((rnd() * 180 - 90) * 1e6) / 1e6, lon: Math.round((rnd() * 360 - 180) * 1e6) / 1e6,
      measurementsDigest: ZERO_HASH, gpuEvidenceDigest: ZERO_HASH, attestationDigest: ZERO_HASH, tcbStatus: 0, simulated: false,
      expiresAt: 10n ** 12n, priceVersion: 1, prices: [{ model: models[i % MODELS]!, promptPerMTok: 1_000n, completionPerMTok: 2_000n }],
    });
  }
  // The chain as the indexer sees it: every registration in blocks 1..100, then a head at 100.
  const events: RegistryEvent[] = [];
  for (const [i, n] of nodes.entries()) {
    const at = { block: BigInt(1 + (i % 100)), blockHash: ZERO_HASH };
    events.push({ ...at, kind: "prices", enclave: n.enclave, version: 1, prices: n.prices });
    const { prices: _p, ...rest } = n;
    void _p;
    events.push({ ...at, kind: "registered", node: rest });
  }
  events.sort((a, b) => Number(a.block - b.block));
  const feed: RegistryFeed = {
    head: async () => ({ number: 100n, hash: `0x${"11".repeat(32)}` as Hex32, timestamp: 1_000n }),
    blockHash: async () => `0x${"11".repeat(32)}` as Hex32,
    events: async (from, to) => events.filter((e) => e.block >= from && e.block <= to),
  };
  const dir = mkdtempSync(join(tmpdir(), "cloister-discovery-bench-"));
  const registry = `0x${"aa".repeat(20)}` as EvmAddress;
  try {
    const path = join(dir, "market-index.sqlite");
    let store = openSqliteIndexStore(path);
    let ix = createRegistryIndexer({ feed, store, registry, fromBlock: 1n, finalityDepth: 0, batchBlocks: 1000 });
    await ix.open();
    let t0 = performance.now();
    await ix.sync();
    const syncMs = performance.now() - t0;
    await store.close();
    store = openSqliteIndexStore(path);
    ix = createRegistryIndexer({ feed, store, registry, fromBlock: 1n, finalityDepth: 0 });
    t0 = performance.now();
    await ix.open();
    const loadMs = performance.now() - t0;
    await ix.sync();
    if (ix.status().nodes !== N) throw new Error(`indexed ${ix.status().nodes} nodes, not ${N}`);

    const old = createOldNodeIndex();
    for (const n of nodes) old.upsert(n);
    const points = Array.from({ length: POINTS }, (_, i) => ({ near: { lat: rnd() * 180 - 90, lon: rnd() * 360 - 180 }, model: models[i % MODELS]! }));
    const now = 1_000n;

    // Baselines.
    const scan = time(30, () => nodes.reduce((c, x) => c + (x.expiresAt > now ? 1 : 0), 0));
    const linear = time(10, (i) => rankNodes(nodes, { model: points[i]!.model, near: points[i]!.near, nowSeconds: now }).slice(0, 10));
    for (let i = 0; i < 200; i++) ix.query({ model: points[i]!.model, near: points[i]!.near, limit: 10 }); // warm-up (JIT)
    for (let i = 0; i < 200; i++) old.nearest({ model: points[i]!.model, near: points[i]!.near, nowSeconds: now, limit: 10 });

    // The answer must equal a full sort, or the figures mean nothing.
    for (let i = 0; i < 20; i++) {
      const p = points[i]!;
      const got = ix.query({ model: p.model, near: p.near, limit: 10 }).map((c) => c.node.enclave).join();
      const want = rankNodes(nodes, { model: p.model, near: p.near, nowSeconds: now }).slice(0, 10).map((c) => c.node.enclave).join();
      if (got !== want) throw new Error("the index disagrees with the linear ranking");
    }

    const gc = watchGc();
    const oldS = time(POINTS, (i) => old.nearest({ model: points[i]!.model, near: points[i]!.near, nowSeconds: now, limit: 10 }));
    const oldGc = await gc.take();
    const newS = time(POINTS, (i) => ix.query({ model: points[i]!.model, near: points[i]!.near, limit: 10 }));
    const newGc = await gc.take();
    const new100 = time(POINTS, (i) => ix.query({ model: points[i]!.model, near: points[i]!.near, limit: 100 }));
    const old100 = time(POINTS, (i) => old.nearest({ model: points[i]!.model, near: points[i]!.near, nowSeconds: now, limit: 100 }));
    const minOf3 = (f: (i: number) => unknown): number[] => time(POINTS, (i) => f(i)).map((_, i) => Math.min(...[0, 1, 2].map(() => once(() => f(i)))));
    const newMin10 = minOf3((i) => ix.query({ model: points[i]!.model, near: points[i]!.near, limit: 10 }));
    const oldMin = minOf3((i) => old.nearest({ model: points[i]!.model, near: points[i]!.near, nowSeconds: now, limit: 100 }));
    const newMin = minOf3((i) => ix.query({ model: points[i]!.model, near: points[i]!.near, limit: 100 }));

    // GET /v1/nodes in process (parsing, the query, JSON), no sockets.
    const nodeStore = openSqliteStore({ path: ":memory:" });
    const app = createGateway({ backend: fakeBackend(), tee: createSimulatorProvider(), store: nodeStore, authRequired: false, nodes: ix });
    const url = (i: number): string => `http://n/v1/nodes?model=${names[i % MODELS]}&near=${points[i]!.near.lat.toFixed(4)},${points[i]!.near.lon.toFixed(4)}&limit=10`;
    for (let i = 0; i < 100; i++) await (await app.request(url(i))).text();
    await gc.take(); // what the loops above left
    const http: number[] = [];
    for (let i = 0; i < POINTS; i++) {
      const s = performance.now();
      const res = await app.request(url(i));
      await res.text();
      http.push(performance.now() - s);
    }
    const httpGc = await gc.take();
    gc.stop();
    await nodeStore.close();
    await store.close();

    const row = (label: string, s: number[], g?: GcSeen): string =>
      `  ${label}: p50 ${fmt(percentile(s, 50))}, p99 ${fmt(percentile(s, 99))}, mean ${fmt(mean(s))} (${(mean(s) / mean(scan)).toFixed(3)}x baseline)${g ? `; GC during the loop: ${g.count} pauses, max ${fmt(g.max)}` : ""}`;
    console.log(`\ndiscovery, ${N.toLocaleString("en-US")} indexed nodes, ${MODELS} models, ${POINTS.toLocaleString("en-US")} random query points:`);
    console.log(`  indexer: sync of ${N.toLocaleString("en-US")} registrations into SQLite ${fmt(syncMs)}, restart load ${fmt(loadMs)}`);
    console.log(`  baseline (bare scan of the array): mean ${fmt(mean(scan))}`);
    console.log(`  linear filter + sort, k=10: mean ${fmt(mean(linear))} (${(mean(linear) / mean(scan)).toFixed(1)}x baseline)`);
    console.log(row("previous band index, k=10", oldS, oldGc));
    console.log(row("indexer query (typed-array bands), k=10", newS, newGc));
    console.log(row("previous band index, k=100", old100));
    console.log(row("indexer query, k=100", new100));
    console.log(`  intrinsic p99 (min of 3 per point): k=10 now ${fmt(percentile(newMin10, 99))}; k=100 previous ${fmt(percentile(oldMin, 99))}, now ${fmt(percentile(newMin, 99))}`);
    console.log(row("GET /v1/nodes in process, k=10", http, httpGc));
    const p99 = percentile(newS, 99);
    console.log(`  goal < 5 ms (p99, k=10, indexer query): ${p99 < 5 ? "met" : "NOT met"}; GET /v1/nodes p99 ${percentile(http, 99) < 5 ? "met" : "NOT met"}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function once(f: () => unknown): number {
  const s = performance.now();
  f();
  return performance.now() - s;
}

function time(n: number, f: (i: number) => unknown): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(once(() => f(i)));
  return out;
}

interface GcSeen {
  readonly count: number;
  readonly max: number;
}

function watchGc(): { take(): Promise<GcSeen>; stop(): void } {
  let seen: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) seen.push(e.duration);
  });
  obs.observe({ entryTypes: ["gc"] });
  return {
    async take() {
      // Entries are delivered asynchronously: let the observer run first.
      await new Promise((r) => setTimeout(r, 20));
      const r = { count: seen.length, max: seen.length ? Math.max(...seen) : 0 };
      seen = [];
      return r;
    },
    stop: () => obs.disconnect(),
  };
}
