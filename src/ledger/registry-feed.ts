/**
 * What the indexer reads from a chain: block heads and hashes (for finality and reorg
 * checks) and the registry's and policy's events in order, each with its block. An
 * interface of its own next to `Chain`, so another chain (NEAR) can feed the same indexer.
 */
import { createPublicClient, http, parseEventLogs, type PublicClient } from "viem";
import type { NodeRecord } from "./chain.js";
import { MeasurementPolicy, NodeRegistry } from "./contracts/artifacts.js";
import { LedgerError } from "./errors.js";
import { nodeFromRegistered } from "./registered-node.js";
import type { EvmAddress, Hex32, Price } from "./typed-data.js";

export interface BlockHead {
  readonly number: bigint;
  readonly hash: Hex32;
  /** Unix seconds: expiry is judged by chain time. */
  readonly timestamp: bigint;
}

interface At {
  readonly block: bigint;
  readonly blockHash: Hex32;
}

export type RegistryEvent = At &
  (
    | { readonly kind: "registered"; readonly node: Omit<NodeRecord, "prices"> }
    | { readonly kind: "prices"; readonly enclave: EvmAddress; readonly version: number; readonly prices: readonly Price[] }
    /** Left (operator) or invalidated (anyone, once expired or revoked). */
    | { readonly kind: "gone"; readonly enclave: EvmAddress }
    | { readonly kind: "measurement"; readonly digest: Hex32; readonly allowed: boolean }
    | { readonly kind: "tcb"; readonly status: number; readonly allowed: boolean }
  );

export interface RegistryFeed {
  head(): Promise<BlockHead>;
  /** The hash of block `n` on the chain as it is now; null when there is no such block. */
  blockHash(n: bigint): Promise<Hex32 | null>;
  /** The events of blocks [from, to], in chain order. */
  events(from: bigint, to: bigint): Promise<RegistryEvent[]>;
}

export interface EvmRegistryFeedOptions {
  readonly rpcUrl: string;
  readonly registry: EvmAddress;
  readonly policy: EvmAddress;
}

const ABI = [...NodeRegistry.abi, ...MeasurementPolicy.abi];

export function createEvmRegistryFeed(o: EvmRegistryFeedOptions): RegistryFeed {
  const client = createPublicClient({ transport: http(o.rpcUrl, { retryCount: 1 }) }) as PublicClient;
  const registry = o.registry.toLowerCase();
  const policy = o.policy.toLowerCase();
  const rpc = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (cause) {
      throw new LedgerError("CHAIN_UNREACHABLE", `${what}: ${cause instanceof Error ? cause.message.split("\n")[0] : String(cause)}`, { cause });
    }
  };
  return {
    head: () =>
      rpc("latest block", async () => {
        const b = await client.getBlock({ blockTag: "latest" });
        return { number: b.number, hash: b.hash, timestamp: b.timestamp };
      }),
    blockHash: (n) =>
      rpc(`block ${n}`, async () => {
        try {
          return (await client.getBlock({ blockNumber: n })).hash;
        } catch (err) {
          if (err instanceof Error && err.name === "BlockNotFoundError") return null;
          throw err;
        }
      }),
    events: (from, to) =>
      rpc(`registry events ${from}..${to}`, async () => {
        const logs = await client.getLogs({ address: [o.registry, o.policy], fromBlock: from, toBlock: to });
        const out: RegistryEvent[] = [];
        for (const e of parseEventLogs({ abi: ABI, logs })) {
          const at: At = { block: e.blockNumber, blockHash: e.blockHash };
          const from = e.address.toLowerCase();
          if (from === registry) {
            if (e.eventName === "NodeRegistered") {
              const x = e.args;
              out.push({
                ...at,
                kind: "registered",
                node: nodeFromRegistered(x),
              });
            } else if (e.eventName === "PricesSet") {
              out.push({ ...at, kind: "prices", enclave: e.args.enclave.toLowerCase() as EvmAddress, version: e.args.version, prices: e.args.prices });
            } else if (e.eventName === "NodeLeft" || e.eventName === "NodeInvalidated") {
              out.push({ ...at, kind: "gone", enclave: e.args.enclave.toLowerCase() as EvmAddress });
            }
          } else if (from === policy) {
            if (e.eventName === "MeasurementAdded" || e.eventName === "MeasurementRemoved") out.push({ ...at, kind: "measurement", digest: e.args.digest, allowed: e.eventName === "MeasurementAdded" });
            else if (e.eventName === "TcbStatusAdded" || e.eventName === "TcbStatusRemoved") out.push({ ...at, kind: "tcb", status: e.args.status, allowed: e.eventName === "TcbStatusAdded" });
          }
        }
        return out;
      }),
  };
}
