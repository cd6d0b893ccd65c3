/**
 * The registry indexer on a real anvil with the market deployed: registrations, price
 * versions, leave, expiry, invalidate and policy removals reach the listing; a restart
 * resumes from the stored final block (no event before it is read again); a reorg in the
 * unfinal tail (evm_snapshot / evm_revert, then other blocks) is rolled back; a reorg
 * deeper than the finality depth rebuilds the index. Runs on SQLite, and on PostgreSQL
 * when one answers (skipped loudly otherwise).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { MeasurementPolicy, NodeRegistry } from "./contracts/artifacts.js";
import type { IndexStore } from "./index-store.js";
import { openPostgresIndexStore } from "./index-store-postgres.js";
import { openSqliteIndexStore } from "./index-store-sqlite.js";
import { createRegistryIndexer, type RegistryIndexer } from "./indexer.js";
import { createEvmRegistryFeed, type RegistryFeed } from "./registry-feed.js";
import { DEFAULT_PRICE, MEASUREMENTS, MODEL, startTestMarket, type TestMarket } from "./test-market.js";
import { modelId, type Hex32 } from "./typed-data.js";

const PG_URL = process.env["CLOISTER_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";
async function pgUp(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}
const hasPg = await pgUp();
if (!hasPg) console.warn(`indexer: SKIPPING the PostgreSQL store tests (no server at ${PG_URL})`);
const pgSchemas: string[] = [];

let m: TestMarket;
let dir: string;
beforeAll(async () => {
  m = await startTestMarket();
  dir = mkdtempSync(join(tmpdir(), "cloister-index-"));
});
afterAll(async () => {
  await m?.stop();
  rmSync(dir, { recursive: true, force: true });
  if (pgSchemas.length) {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    for (const s of pgSchemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await c.end();
  }
});

/** Counts which blocks the indexer asks the chain for. */
function countingFeed(inner: RegistryFeed): RegistryFeed & { ranges: [bigint, bigint][] } {
  const ranges: [bigint, bigint][] = [];
  return { ranges, head: () => inner.head(), blockHash: (n) => inner.blockHash(n), events: (a, b) => (ranges.push([a, b]), inner.events(a, b)) };
}

const mine = (n: number) => m.advance(n); // one block per call, n seconds later
const PARIS = { lat: 48.8566, lon: 2.3522 };
const listed = (ix: RegistryIndexer, model = MODEL) => ix.query({ model, near: PARIS, limit: 50 }).map((c) => c.node.enclave);

/** A fresh store, and a way to open it again (the same file, or the same schema). */
type Opened = { store: IndexStore; reopen: () => Promise<IndexStore> };
const stores: [string, () => Promise<Opened>][] = [
  [
    "sqlite",
    async () => {
      const path = join(dir, `index-${randomBytes(3).toString("hex")}.sqlite`);
      return { store: openSqliteIndexStore(path), reopen: async () => openSqliteIndexStore(path) };
    },
  ],
];
if (hasPg) {
  stores.push([
    "postgres",
    async () => {
      const schema = `cloister_index_${randomBytes(4).toString("hex")}`;
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`CREATE SCHEMA ${schema}`);
      await c.end();
      pgSchemas.push(schema);
      return { store: await openPostgresIndexStore({ url: PG_URL, schema }), reopen: () => openPostgresIndexStore({ url: PG_URL, schema }) };
    },
  ]);
}

describe.each(stores)("registry indexer on %s", (_name, openStore) => {
  it("follows registrations, prices, leave, expiry and invalidate; resumes after a restart from its final block", async () => {
    const from = await m.client.getBlockNumber({ cacheTime: 0 });
    const feed = countingFeed(createEvmRegistryFeed({ rpcUrl: m.anvil.rpcUrl, registry: m.addresses.registry, policy: m.addresses.policy }));
    const { store, reopen } = await openStore();
    let ix = createRegistryIndexer({ feed, store, registry: m.addresses.registry, fromBlock: from, finalityDepth: 2, batchBlocks: 3 });
    await ix.open();

    const other = modelId("llama-3-8b");
    const a = await m.registerNode({ latE6: 48_900_000, lonE6: 2_300_000, endpoint: "https://a.example", prices: [DEFAULT_PRICE, { model: other, promptPerMTok: 5n, completionPerMTok: 7n }] });
    const b = await m.registerNode({ latE6: 40_700_000, lonE6: -74_000_000, endpoint: "https://b.example" });
    const t = await m.now();
    const shortLived = await m.registerNode({ latE6: 51_500_000, lonE6: -120_000, verdict: { notAfter: t + 500n } });
    await ix.sync();
    const A = a.enclave.address.toLowerCase();
    const B = b.enclave.address.toLowerCase();
    const S = shortLived.enclave.address.toLowerCase();
    // Nearest first from Paris: a (Paris), the London one, then New York.
    expect(listed(ix)).toEqual([A, S, B]);
    expect(listed(ix, other)).toEqual([A]);
    const st = ix.status();
    expect(st.indexedBlock).toBe(await m.client.getBlockNumber({ cacheTime: 0 }));
    expect(st.finalizedBlock).toBe(st.indexedBlock - 2n);

    // A new price table is a new version; a refresh with the same table keeps it.
    await m.registerNode({ enclave: a.enclave, latE6: 48_900_000, lonE6: 2_300_000, prices: [{ ...DEFAULT_PRICE, promptPerMTok: 9n }] });
    await mine(1);
    await mine(1);
    await m.registerNode({ enclave: a.enclave, latE6: 48_900_000, lonE6: 2_300_000, prices: [{ ...DEFAULT_PRICE, promptPerMTok: 9n }] });
    await mine(1);
    await mine(1);
    await mine(1);
    await ix.sync();
    const rec = ix.query({ model: MODEL, near: PARIS, limit: 1 })[0]!.node;
    expect(rec.enclave).toBe(A);
    expect(rec.priceVersion).toBe(2);
    expect(rec.prices).toEqual([{ ...DEFAULT_PRICE, promptPerMTok: 9n }]);
    expect(listed(ix, other)).toEqual([]);

    // Expiry is judged by chain time; invalidate and leave remove the registration.
    await mine(600);
    await ix.sync();
    expect(listed(ix)).toEqual([A, B]);
    await m.send(m.accounts.relayer, m.addresses.registry, NodeRegistry.abi, "invalidate", [shortLived.enclave.address]);
    await m.send(b.operator, m.addresses.registry, NodeRegistry.abi, "leave", [b.enclave.address]);
    for (let i = 0; i < 3; i++) await mine(1);
    await ix.sync();
    expect(listed(ix)).toEqual([A]);
    const finalBefore = ix.status().finalizedBlock;
    await ix.stop();
    await store.close();

    // Restart on the same store: the listing is back before any sync, and the sync reads only what came after.
    const c = await m.registerNode({ latE6: 50_000_000, lonE6: 8_000_000 });
    const C = c.enclave.address.toLowerCase();
    for (let i = 0; i < 3; i++) await mine(1);
    feed.ranges.length = 0;
    const store2 = await reopen();
    ix = createRegistryIndexer({ feed, store: store2, registry: m.addresses.registry, fromBlock: from, finalityDepth: 2, batchBlocks: 1000 });
    await ix.open();
    expect(ix.status().finalizedBlock).toBe(finalBefore);
    expect(listed(ix)).toEqual([A]);
    await ix.sync();
    expect(feed.ranges.every(([lo]) => lo > finalBefore)).toBe(true);
    expect(listed(ix)).toEqual([A, C]);
    await store2.close();
  });

  it("rolls back a reorg above the finality depth, and rebuilds after one below it", async () => {
    const from = await m.client.getBlockNumber({ cacheTime: 0 });
    const feed = createEvmRegistryFeed({ rpcUrl: m.anvil.rpcUrl, registry: m.addresses.registry, policy: m.addresses.policy });
    const { store } = await openStore();
    const deep: bigint[] = [];
    const ix = createRegistryIndexer({ feed, store, registry: m.addresses.registry, fromBlock: from, finalityDepth: 3, onDeepReorg: (at) => deep.push(at) });
    await ix.open();
    const kept = await m.registerNode({ latE6: 1_000_000, lonE6: 1_000_000 });
    for (let i = 0; i < 4; i++) await mine(1);
    await ix.sync();
    const K = kept.enclave.address.toLowerCase();
    const near = { lat: 1, lon: 1 };
    const ids = () => ix.query({ model: MODEL, near, limit: 10 }).map((c) => c.node.enclave);
    expect(ids()).toContain(K);

    // Shallow: a registration in the tail, then the chain reorganises without it.
    const snap = await m.snapshot();
    const orphan = await m.registerNode({ latE6: 1_100_000, lonE6: 1_000_000 });
    await ix.sync();
    const O = orphan.enclave.address.toLowerCase();
    expect(ids()).toContain(O);
    await m.revertTo(snap);
    await mine(1);
    await mine(1);
    await ix.sync();
    expect(ids()).not.toContain(O);
    expect(ids()).toContain(K);
    expect(deep).toEqual([]);

    // Deep: a registration becomes final, then a longer chain without it replaces it.
    const snap2 = await m.snapshot();
    const buried = await m.registerNode({ latE6: 1_200_000, lonE6: 1_000_000 });
    for (let i = 0; i < 5; i++) await mine(1);
    await ix.sync();
    const D = buried.enclave.address.toLowerCase();
    expect(ids()).toContain(D);
    await m.revertTo(snap2);
    for (let i = 0; i < 8; i++) await mine(2);
    await ix.sync();
    expect(deep.length).toBe(1);
    expect(ids()).not.toContain(D);
    expect(ids()).toContain(K);
    await store.close();
  });

  it("delists nodes whose measurement the policy removed, and lists them again when re-added", async () => {
    const from = await m.client.getBlockNumber({ cacheTime: 0 });
    const feed = createEvmRegistryFeed({ rpcUrl: m.anvil.rpcUrl, registry: m.addresses.registry, policy: m.addresses.policy });
    const { store } = await openStore();
    const ix = createRegistryIndexer({ feed, store, registry: m.addresses.registry, fromBlock: from, finalityDepth: 1 });
    await ix.open();
    const n = await m.registerNode({ enclave: privateKeyToAccount(generatePrivateKey()), latE6: -33_900_000, lonE6: 151_200_000 });
    const N = n.enclave.address.toLowerCase();
    const sydney = { lat: -33.9, lon: 151.2 };
    const ids = () => ix.query({ model: MODEL, near: sydney, limit: 100 }).map((c) => c.node.enclave);
    await mine(1);
    await ix.sync();
    expect(ids()).toContain(N);
    await m.send(m.accounts.deployer, m.addresses.policy, MeasurementPolicy.abi, "removeMeasurement", [MEASUREMENTS as Hex32]);
    await ix.sync(); // the removal is still in the tail: already applied
    expect(ids()).toEqual([]);
    await m.send(m.accounts.deployer, m.addresses.policy, MeasurementPolicy.abi, "proposeMeasurement", [MEASUREMENTS as Hex32]);
    await mine(3601);
    await m.send(m.accounts.relayer, m.addresses.policy, MeasurementPolicy.abi, "activateMeasurement", [MEASUREMENTS as Hex32]);
    await mine(1);
    await mine(1);
    await ix.sync();
    expect(ids()).toContain(N);
    await store.close();
  });
});

