/**
 * Persistence behind one interface. SQLite (embedded, src/store/sqlite.ts) is the
 * default; a PostgreSQL implementation for multi-machine deployments implements the
 * same interface later, which is why every method is async even though SQLite is not.
 * Nothing here ever holds prompt or completion content: only ids, counts, hashes and
 * signatures over hashes.
 */
import type { SigningAlgo } from "../seal/signing.js";

export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string | null;
  /** Unix milliseconds. */
  readonly created: number;
  /** Unix milliseconds, or null while the key is valid. */
  readonly revoked: number | null;
}

/** in_flight rows that are still open when the node starts again become `interrupted`. */
export type UsageStatus = "in_flight" | "ok" | "error" | "cancelled" | "interrupted";

export interface UsageStart {
  readonly requestId: string;
  readonly keyId: string | null;
  readonly model: string;
  readonly route: string;
  readonly startedAt: number;
}

export interface UsageFinish {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly status: Exclude<UsageStatus, "in_flight" | "interrupted">;
  readonly finishedAt: number;
}

/** Running totals of a request still in flight (kill safety: ../gateway/handlers/usage-progress.ts). */
export interface UsageProgressCounts {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export interface UsageRecord extends UsageStart {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly status: UsageStatus;
  readonly finishedAt: number | null;
  /** The node that served it (several nodes may share a PostgreSQL store); null for rows from before node ids. */
  readonly nodeId: string | null;
}

export interface SignatureRecord {
  readonly id: string;
  readonly algo: SigningAlgo;
  readonly text: string;
  readonly signature: string;
  readonly address: string;
  /** The API key that made the request; null (or absent) with --no-auth. */
  readonly keyId?: string | null;
}

export interface SignaturePut extends SignatureRecord {
  /**
   * Another name that finds this row: the upstream's own completion id, which a
   * passthrough body carries. The first key to use a name keeps it (the upstream may echo
   * a caller-chosen id); only a row this key owns gets one.
   */
  readonly alias?: string | null;
}

export interface Store {
  createApiKey(input: { id: string; hash: string; name: string | null; created: number }): Promise<void>;
  /** The key whose SHA-256 hash (hex) this is, revoked or not; null when unknown. */
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null>;
  listApiKeys(): Promise<readonly ApiKeyRecord[]>;
  /** False when no key has this id; revoking twice keeps the first time. */
  revokeApiKey(id: string, at: number): Promise<boolean>;

  /** Durable when it resolves: the response may start only after this (kill safety). */
  startUsage(u: UsageStart): Promise<void>;
  /**
   * Running totals of a row still in_flight, so a crash keeps what was served so far;
   * ignored once the row is finished. Group-committed like finishUsage.
   */
  progressUsage(requestId: string, counts: UsageProgressCounts): Promise<void>;
  /** Visible to this store's reads when it resolves; may be group-committed shortly after. */
  finishUsage(requestId: string, f: UsageFinish): Promise<void>;
  listUsage(filter?: { keyId?: string; status?: UsageStatus }): Promise<readonly UsageRecord[]>;

  /** Visible to getSignature when it resolves; may be group-committed shortly after. */
  putSignature(r: SignaturePut): Promise<void>;
  /** The row with this id, else the row this alias names (its own id, not the alias); an id wins over an alias. */
  getSignature(id: string, algo: SigningAlgo): Promise<SignatureRecord | null>;

  close(): Promise<void>;
}
