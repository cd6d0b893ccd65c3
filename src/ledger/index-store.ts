/**
 * Where the indexer keeps the FINAL part of the registry (blocks at least the finality
 * depth below the head): SQLite by default (./index-store-sqlite.ts), PostgreSQL when many
 * nodes share one index (./index-store-postgres.ts). The unfinal tail is never stored: the
 * indexer re-reads it from the chain on every sync, so a reorg inside it needs no undo.
 */
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

/** A record as stored: JSON with bigints as decimal strings. */
export function encodeRecord(n: NodeRecord): string {
  return JSON.stringify(n, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/**
 * Checked by hand rather than with zod: a restart loads every record (100,000 in the bench),
 * and a schema parse per record was most of the load time.
 */
export function decodeRecord(text: string): NodeRecord {
  const fail = (): never => {
    throw new LedgerError("INDEX_CORRUPT", "a stored registry record does not parse");
  };
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return fail();
  }
  const str = (k: string): string => (typeof v[k] === "string" ? (v[k] as string) : fail());
  const num = (k: string): number => (typeof v[k] === "number" ? (v[k] as number) : fail());
  const big = (x: unknown): bigint => (typeof x === "string" && /^\d+$/.test(x) ? BigInt(x) : fail());
  const hex = (k: string): `0x${string}` => (/^0x[0-9a-f]*$/i.test(str(k)) ? (v[k] as `0x${string}`) : fail());
  const prices = Array.isArray(v["prices"]) ? (v["prices"] as Record<string, unknown>[]) : fail();
  return {
    enclave: hex("enclave"),
    operator: hex("operator"),
    payout: hex("payout"),
    endpoint: str("endpoint"),
    region: str("region"),
    lat: num("lat"),
    lon: num("lon"),
    measurementsDigest: hex("measurementsDigest"),
    gpuEvidenceDigest: hex("gpuEvidenceDigest"),
    attestationDigest: hex("attestationDigest"),
    tcbStatus: num("tcbStatus"),
    simulated: typeof v["simulated"] === "boolean" ? v["simulated"] : fail(),
    expiresAt: big(v["expiresAt"]),
    priceVersion: num("priceVersion"),
    prices: prices.map((p) => ({
      model: typeof p["model"] === "string" && /^0x[0-9a-f]{64}$/i.test(p["model"]) ? (p["model"] as `0x${string}`) : fail(),
      promptPerMTok: big(p["promptPerMTok"]),
      completionPerMTok: big(p["completionPerMTok"]),
    })),
  };
}
