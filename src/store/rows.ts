/**
 * Row -> record mapping shared by the SQLite and PostgreSQL stores: both use the same
 * column names. Numbers go through Number() because PostgreSQL returns BIGINT as a
 * string (ours are Unix ms and counts, well below 2^53).
 */
import type { SigningAlgo } from "../seal/signing.js";
import type { ApiKeyRecord, SignatureRecord, UsageRecord, UsageStatus } from "./store.js";

export type Row = Record<string, unknown>;

const isRow = (r: unknown): r is Row => typeof r === "object" && r !== null;
const str = (v: unknown): string => String(v);
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function toKey(r: unknown): ApiKeyRecord | null {
  if (!isRow(r)) return null;
  return { id: str(r["id"]), name: r["name"] == null ? null : str(r["name"]), created: num(r["created"]), revoked: numOrNull(r["revoked"]) };
}

export function toUsage(r: unknown): UsageRecord {
  const row = isRow(r) ? r : {};
  return {
    requestId: str(row["request_id"]),
    keyId: row["key_id"] == null ? null : str(row["key_id"]),
    model: str(row["model"]),
    route: str(row["route"]),
    startedAt: num(row["started_at"]),
    promptTokens: num(row["prompt_tokens"]),
    completionTokens: num(row["completion_tokens"]),
    status: str(row["status"]) as UsageStatus,
    finishedAt: numOrNull(row["finished_at"]),
    nodeId: row["node_id"] == null ? null : str(row["node_id"]),
  };
}

export function toSig(r: unknown): SignatureRecord | null {
  if (!isRow(r)) return null;
  return { id: str(r["id"]), algo: str(r["algo"]) as SigningAlgo, text: str(r["text"]), signature: str(r["signature"]), address: str(r["address"]), keyId: typeof r["key_id"] === "string" ? r["key_id"] : null };
}
