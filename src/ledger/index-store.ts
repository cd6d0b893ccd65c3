/**
 * Where the indexer keeps the FINAL part of the registry (blocks at least the finality
 * depth below the head): SQLite by default (./index-store-sqlite.ts), PostgreSQL when many
 * nodes share one index (./index-store-postgres.ts). The unfinal tail is never stored: the
 * indexer re-reads it from the chain on every sync, so a reorg inside it needs no undo.
 */
import { z } from "zod";
import type { NodeRecord } from "./chain.js";
import { LedgerError } from "./errors.js";
import type { EvmAddress, Hex32 } from "./typed-data.js";

export interface IndexMeta {
  /** The registry this index follows (an index for another one is discarded). */
  readonly registry: EvmAddress;
  /** Every event up to this block is in the store. */
  readonly finalizedBlock: bigint;
  /** Its hash when stored: a different hash later means a reorg deeper than the finality depth. */
  readonly finalizedHash: Hex32 | null;
}

export interface FinalState {
  readonly meta: IndexMeta | null;
  readonly nodes: readonly NodeRecord[];
  readonly revokedMeasurements: readonly Hex32[];
  readonly revokedTcb: readonly number[];
}

export interface FinalBatch {
  /** Nodes whose record changed (upserted whole). */
  readonly nodes: readonly NodeRecord[];
  /** Revocation changes, in order: true = revoked, false = allowed again. */
  readonly measurements: readonly { readonly digest: Hex32; readonly revoked: boolean }[];
  readonly tcb: readonly { readonly status: number; readonly revoked: boolean }[];
  readonly meta: IndexMeta;
}

export interface IndexStore {
  readonly kind: "sqlite" | "postgres";
  load(): Promise<FinalState>;
  /** Atomic: all of the batch and its meta, or nothing (a crash resumes from the previous meta). */
  commit(batch: FinalBatch): Promise<void>;
  /** Forgets everything (another registry, or a reorg deeper than the finality depth). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const hex = z.string().regex(/^0x[0-9a-f]*$/i);
const big = z.string().regex(/^\d+$/).transform((s) => BigInt(s));
const recordSchema = z.object({
  enclave: hex,
  operator: hex,
  payout: hex,
  endpoint: z.string(),
  region: z.string(),
  lat: z.number(),
  lon: z.number(),
  measurementsDigest: hex,
  gpuEvidenceDigest: hex,
  attestationDigest: hex,
  tcbStatus: z.number().int(),
  simulated: z.boolean(),
  expiresAt: big,
  priceVersion: z.number().int(),
  prices: z.array(z.object({ model: hex, promptPerMTok: big, completionPerMTok: big })),
});

/** A record as stored: JSON with bigints as decimal strings. */
export function encodeRecord(n: NodeRecord): string {
  return JSON.stringify(n, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

export function decodeRecord(text: string): NodeRecord {
  const r = recordSchema.safeParse(JSON.parse(text));
  if (!r.success) throw new LedgerError("INDEX_CORRUPT", "a stored registry record does not parse");
  return r.data as NodeRecord;
}
