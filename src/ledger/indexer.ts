/**
 * The registry indexer: follows NodeRegistry's events (registrations, price versions,
 * leave/invalidate) and MeasurementPolicy's removals into the store, and answers
 * discovery queries from memory (./node-index.ts).
 *
 * Finality: blocks at least `finalityDepth` below the head are final; their events are
 * committed to the store together with the last final block's number and hash, in one
 * transaction, so a restart resumes from there. The blocks above (the unfinal tail) are
 * never stored: every sync reads them again from the chain and lays them over the final
 * state, so a reorg inside the tail is rolled back simply by not being there any more.
 * A reorg deeper than the finality depth (the stored final hash no longer on the chain)
 * breaks the assumption the depth stands for: the index is discarded and rebuilt from the
 * registry's deploy block, loudly (onDeepReorg).
 *
 * Listed = unexpired by chain time (the head's timestamp), not left or invalidated, and
 * its measurement and TCB status not removed from the policy since. A verifier withdrawn
 * by the registry's owner is not seen until someone invalidates the node (the event does
 * not name its nodes). All of it is a hint: clients attest every node themselves.
 */
import type { NodeRecord } from "./chain.js";
import type { Candidate, LatLon } from "./discovery.js";
import { LedgerError } from "./errors.js";
import type { FinalBatch, IndexStore } from "./index-store.js";
import { createNodeIndex } from "./node-index.js";
import type { RegistryEvent, RegistryFeed } from "./registry-feed.js";
import type { EvmAddress, Hex32, Price } from "./typed-data.js";

export interface IndexerOptions {
  readonly feed: RegistryFeed;
  readonly store: IndexStore;
  readonly registry: EvmAddress;
  /** The registry's deploy block (market.json deployBlock). */
  readonly fromBlock: bigint;
  /** Blocks below the head before one counts as final (default 12; 0 = the head is final). */
  readonly finalityDepth?: number;
  /** Blocks per eth_getLogs while catching up (default 2,000: public RPCs cap the range). */
  readonly batchBlocks?: number;
  readonly onDeepReorg?: (at: bigint) => void;
}

export interface IndexStatus {
  /** The newest block included (-1 before the first sync). */
  readonly indexedBlock: bigint;
  /** Blocks at or below this one are final (and stored). */
  readonly finalizedBlock: bigint;
  /** The head's timestamp at the last sync: expiry is judged by it. */
  readonly chainTime: bigint;
  readonly nodes: number;
}

export interface DiscoveryQuery {
  readonly model?: Hex32;
  readonly near?: LatLon;
  readonly limit: number;
}

export interface RegistryIndexer {
  /** Loads the stored final state (call once before the first sync). */
  open(): Promise<void>;
  /** One round: catch up the final part, re-read the tail. */
  sync(): Promise<IndexStatus>;
  status(): IndexStatus;
  query(q: DiscoveryQuery): Candidate[];
  /** Syncs every `intervalMs` until stop(); a failed round is reported and retried next time. */
  start(intervalMs: number, onError?: (err: unknown) => void): void;
  stop(): Promise<void>;
}

/** What events are folded into: the final state, or the tail laid over it. */
interface Ledger {
  node(enclave: string): NodeRecord | undefined;
  setNode(n: NodeRecord): void;
  pending: Map<string, readonly Price[]>;
  revoke(kind: "m" | "t", key: string, revoked: boolean): void;
}

function fold(l: Ledger, events: readonly RegistryEvent[]): void {
  for (const e of events) {
    switch (e.kind) {
      case "prices":
        l.pending.set(`${e.enclave}:${e.version}`, e.prices);
        break;
      case "registered": {
        const prev = l.node(e.node.enclave);
        // PricesSet comes in the same transaction when the table changed; otherwise the version is the one we have.
        const prices = l.pending.get(`${e.node.enclave}:${e.node.priceVersion}`) ?? (prev && prev.priceVersion === e.node.priceVersion ? prev.prices : []);
        l.setNode({ ...e.node, prices });
        break;
      }
      case "gone": {
        const prev = l.node(e.enclave);
        if (prev) l.setNode({ ...prev, expiresAt: 0n });
        break;
      }
      case "measurement":
        l.revoke("m", e.digest.toLowerCase(), !e.allowed);
        break;
      case "tcb":
        l.revoke("t", String(e.status), !e.allowed);
        break;
    }
  }
}

export function createRegistryIndexer(o: IndexerOptions): RegistryIndexer {
  const depth = BigInt(Math.max(0, o.finalityDepth ?? 12));
  const batch = BigInt(Math.max(1, o.batchBlocks ?? 2000));
  const registry = o.registry.toLowerCase() as EvmAddress;

  let final = new Map<string, NodeRecord>();
  let finalRevoked = { m: new Set<string>(), t: new Set<string>() };
  let finalizedBlock = o.fromBlock - 1n;
  let finalizedHash: Hex32 | null = null;
  let indexedBlock = -1n;
  let chainTime = 0n;
  let overlay = new Map<string, NodeRecord>();
  let served = { m: new Set<string>(), t: new Set<string>() };
  let index = createNodeIndex();
  let opened = false;

  const servedOf = (enclave: string): NodeRecord | undefined => overlay.get(enclave) ?? final.get(enclave);
  const refresh = (enclaves: Iterable<string>): void => {
    for (const e of enclaves) {
      const n = servedOf(e);
      if (n) index.upsert(n);
      else index.remove(e as EvmAddress);
    }
  };

  const reset = async (): Promise<void> => {
    await o.store.reset();
    final = new Map();
    finalRevoked = { m: new Set(), t: new Set() };
    finalizedBlock = o.fromBlock - 1n;
    finalizedHash = null;
    overlay = new Map();
    served = { m: new Set(), t: new Set() };
    index = createNodeIndex();
  };

  const open = async (): Promise<void> => {
    const s = await o.store.load();
    if (s.meta && s.meta.registry !== registry) {
      await reset();
    } else if (s.meta) {
      for (const n of s.nodes) final.set(n.enclave, n);
      finalRevoked = { m: new Set(s.revokedMeasurements.map((d) => d.toLowerCase())), t: new Set(s.revokedTcb.map(String)) };
      finalizedBlock = s.meta.finalizedBlock;
      finalizedHash = s.meta.finalizedHash;
      indexedBlock = finalizedBlock;
      served = { m: new Set(finalRevoked.m), t: new Set(finalRevoked.t) };
      refresh(final.keys());
    }
    opened = true;
  };

  /** Folds final blocks (from, to] into the store, one transaction per call. */
  const commitFinal = async (from: bigint, to: bigint): Promise<void> => {
    const events = await o.feed.events(from + 1n, to);
    const hash = await o.feed.blockHash(to);
    const changed = new Map<string, NodeRecord>();
    const measurements: FinalBatch["measurements"][number][] = [];
    const tcb: FinalBatch["tcb"][number][] = [];
    const revoked = { m: new Set(finalRevoked.m), t: new Set(finalRevoked.t) };
    fold(
      {
        node: (e) => changed.get(e) ?? final.get(e),
        setNode: (n) => changed.set(n.enclave, n),
        pending: new Map(),
        revoke: (kind, key, r) => {
          if (r) revoked[kind].add(key);
          else revoked[kind].delete(key);
          if (kind === "m") measurements.push({ digest: key as Hex32, revoked: r });
          else tcb.push({ status: Number(key), revoked: r });
        },
      },
      events,
    );
    await o.store.commit({ nodes: [...changed.values()], measurements, tcb, meta: { registry, finalizedBlock: to, finalizedHash: hash } });
    for (const [e, n] of changed) final.set(e, n);
    finalRevoked = revoked;
    finalizedBlock = to;
    finalizedHash = hash;
    refresh(changed.keys());
  };

  let running: Promise<IndexStatus> | null = null;
  const syncOnce = async (): Promise<IndexStatus> => {
    if (!opened) throw new LedgerError("INDEX_NOT_OPEN", "open() the indexer before syncing");
    const head = await o.feed.head();
    if (finalizedHash !== null && finalizedBlock >= o.fromBlock) {
      const now = await o.feed.blockHash(finalizedBlock);
      if (now !== finalizedHash) {
        o.onDeepReorg?.(finalizedBlock);
        await reset();
      }
    }
    const target = head.number - depth;
    // The chain may be shorter than what we finalized (a reorg to a shorter chain, or another chain at this URL).
    if (target < finalizedBlock && head.number < finalizedBlock) {
      o.onDeepReorg?.(finalizedBlock);
      await reset();
    }
    while (finalizedBlock < target) {
      const to = finalizedBlock + batch < target ? finalizedBlock + batch : target;
      await commitFinal(finalizedBlock, to);
    }
    // The tail, read afresh and laid over the final state.
    const tail = head.number > finalizedBlock ? await o.feed.events(finalizedBlock + 1n, head.number) : [];
    const next = new Map<string, NodeRecord>();
    const rev = { m: new Set(finalRevoked.m), t: new Set(finalRevoked.t) };
    fold(
      {
        node: (e) => next.get(e) ?? final.get(e),
        setNode: (n) => next.set(n.enclave, n),
        pending: new Map(),
        revoke: (kind, key, r) => (r ? rev[kind].add(key) : rev[kind].delete(key)),
      },
      tail,
    );
    const touched = new Set([...overlay.keys(), ...next.keys()]);
    overlay = next;
    served = rev;
    refresh(touched);
    indexedBlock = head.number;
    chainTime = head.timestamp;
    return status();
  };

  const status = (): IndexStatus => ({ indexedBlock, finalizedBlock: finalizedBlock < 0n ? 0n : finalizedBlock, chainTime, nodes: index.size() });

  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  return {
    open,
    sync: () => (running ??= syncOnce().finally(() => (running = null))),
    status,
    query: (q) =>
      index.nearest({
        ...(q.model ? { model: q.model } : {}),
        ...(q.near ? { near: q.near } : {}),
        limit: q.limit,
        nowSeconds: chainTime,
        accept: (n) => !served.m.has(n.measurementsDigest.toLowerCase()) && !served.t.has(String(n.tcbStatus)),
      }),
    start(intervalMs, onError) {
      stopped = false;
      const loop = async (): Promise<void> => {
        try {
          await (running ??= syncOnce().finally(() => (running = null)));
        } catch (err) {
          onError?.(err);
        }
        if (!stopped) timer = setTimeout(() => void loop(), intervalMs);
      };
      void loop();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running?.catch(() => {});
    },
  };
}
