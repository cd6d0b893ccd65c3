/**
 * GET /v1/nodes: the wire format (docs/protocol.md "Node discovery"), one definition for the
 * node that answers and the client that checks the answer. Browser-safe (zod and noble only).
 *
 * A listing is a HINT: the answering node (or anyone in between) may omit, reorder or invent
 * entries. The client attests every node it uses itself; the shape check here only stops an
 * arbitrary body from reaching the caller under a 200.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { z } from "zod";
import type { Candidate } from "./discovery.js";

export const NODES_DEFAULT_LIMIT = 20;
export const NODES_MAX_LIMIT = 100;

export interface WireNodeModel {
  /** The model's name when the answering node knows it (the query's `model`, its own models), else the on-chain id (0x keccak256 of the name). */
  readonly id: string;
  readonly priceVersion: number;
  /** Wei (smallest unit) per million prompt tokens, decimal. */
  readonly promptPerMillion: string;
  readonly completionPerMillion: string;
}

export interface WireNode {
  readonly enclave: string;
  readonly operator: string;
  readonly payout: string;
  readonly endpoint: string;
  readonly region: string;
  readonly location: { readonly lat: number; readonly lon: number };
  readonly models: readonly WireNodeModel[];
  readonly measurementsDigest: string;
  /** Unix seconds. */
  readonly expiresAt: number;
  /** Great-circle km from `near`, null without it. */
  readonly distanceKm: number | null;
}

export interface WireNodeList {
  readonly object: "list";
  readonly data: readonly WireNode[];
  /** The newest block the answer includes (not yet final). */
  readonly indexedBlock: number;
  /** Blocks at or below this one are final (finality depth); above it a reorg may still change the answer. */
  readonly finalizedBlock: number;
}

const hex = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-f]{${bytes * 2}}$`));
const decimal = z.string().regex(/^(0|[1-9][0-9]{0,77})$/);

const wireModel = z.object({
  id: z.string().min(1).max(256),
  priceVersion: z.number().int().nonnegative(),
  promptPerMillion: decimal,
  completionPerMillion: decimal,
});

export const wireNodeSchema = z.object({
  enclave: hex(20),
  operator: hex(20),
  payout: hex(20),
  endpoint: z.string().min(1).max(2048),
  region: z.string().max(256),
  location: z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }),
  models: z.array(wireModel).max(64),
  measurementsDigest: hex(32),
  expiresAt: z.number().int().nonnegative(),
  distanceKm: z.number().nonnegative().nullable(),
});

export const wireNodeListSchema = z.object({
  object: z.literal("list"),
  data: z.array(wireNodeSchema).max(NODES_MAX_LIMIT),
  indexedBlock: z.number().int().nonnegative(),
  finalizedBlock: z.number().int().nonnegative(),
});

/** The on-chain model id: keccak256 of the name exactly as the API serves it (same as typed-data.ts modelId, without viem). */
export function modelIdOf(name: string): `0x${string}` {
  const h = keccak_256(new TextEncoder().encode(name));
  return `0x${Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** One listing entry; `names` maps on-chain model ids back to names where known. */
export function toWireNode(c: Candidate, names: ReadonlyMap<string, string>): WireNode {
  const n = c.node;
  return {
    enclave: n.enclave,
    operator: n.operator,
    payout: n.payout,
    endpoint: n.endpoint,
    region: n.region,
    location: { lat: n.lat, lon: n.lon },
    models: n.prices.map((p) => ({
      id: names.get(p.model) ?? p.model,
      priceVersion: n.priceVersion,
      promptPerMillion: p.promptPerMTok.toString(),
      completionPerMillion: p.completionPerMTok.toString(),
    })),
    measurementsDigest: n.measurementsDigest,
    expiresAt: Number(n.expiresAt),
    distanceKm: c.distanceKm === null ? null : Math.round(c.distanceKm * 1000) / 1000,
  };
}
