/**
 * The registry index in SQLite (better-sqlite3, like the node's store): its own file in the
 * data dir (market-index.sqlite), WAL, synchronous=NORMAL (a crash may lose the last commit,
 * which the indexer simply reads again from the chain: the meta row moves with the data).
 */
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { LedgerError } from "./errors.js";
import { decodeRecord, encodeRecord, type FinalBatch, type FinalState, type IndexStore } from "./index-store.js";
import { ensurePrivateDir } from "../store/private-files.js";
import type { EvmAddress, Hex32 } from "./typed-data.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS market_index_meta (id INTEGER PRIMARY KEY CHECK (id = 1), registry TEXT NOT NULL, finalized_block TEXT NOT NULL, finalized_hash TEXT);
CREATE TABLE IF NOT EXISTS market_index_nodes (enclave TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS market_index_revoked (kind TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, value));
`;

export function openSqliteIndexStore(path: string): IndexStore {
  let db: Database.Database;
  try {
    if (path !== ":memory:") ensurePrivateDir(dirname(path));
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 5000");
    db.exec(SCHEMA);
  } catch (cause) {
    throw new LedgerError("INDEX_OPEN_FAILED", `cannot open the registry index at ${path}`, { cause });
  }
  const upsertNode = db.prepare("INSERT INTO market_index_nodes (enclave, expires_at, record) VALUES (?, ?, ?) ON CONFLICT (enclave) DO UPDATE SET expires_at = excluded.expires_at, record = excluded.record");
  const addRevoked = db.prepare("INSERT OR IGNORE INTO market_index_revoked (kind, value) VALUES (?, ?)");
  const delRevoked = db.prepare("DELETE FROM market_index_revoked WHERE kind = ? AND value = ?");
  const setMeta = db.prepare("INSERT INTO market_index_meta (id, registry, finalized_block, finalized_hash) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET registry = excluded.registry, finalized_block = excluded.finalized_block, finalized_hash = excluded.finalized_hash");
  const commit = db.transaction((b: FinalBatch) => {
    for (const n of b.nodes) upsertNode.run(n.enclave, Number(n.expiresAt), encodeRecord(n));
    for (const m of b.measurements) (m.revoked ? addRevoked : delRevoked).run("m", m.digest);
    for (const t of b.tcb) (t.revoked ? addRevoked : delRevoked).run("t", String(t.status));
    setMeta.run(b.meta.registry, b.meta.finalizedBlock.toString(), b.meta.finalizedHash);
  });
  const wrap = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (cause) {
      if (cause instanceof LedgerError) throw cause;
      throw new LedgerError("INDEX_WRITE_FAILED", `registry index: ${what} failed`, { cause });
    }
  };
  return {
    kind: "sqlite",
    load: async (): Promise<FinalState> =>
      wrap("load", () => {
        const meta = db.prepare("SELECT registry, finalized_block, finalized_hash FROM market_index_meta WHERE id = 1").get() as { registry: string; finalized_block: string; finalized_hash: string | null } | undefined;
        const nodes = (db.prepare("SELECT record FROM market_index_nodes").all() as { record: string }[]).map((r) => decodeRecord(r.record));
        const revoked = db.prepare("SELECT kind, value FROM market_index_revoked").all() as { kind: string; value: string }[];
        return {
          meta: meta ? { registry: meta.registry as EvmAddress, finalizedBlock: BigInt(meta.finalized_block), finalizedHash: meta.finalized_hash as Hex32 | null } : null,
          nodes,
          revokedMeasurements: revoked.filter((r) => r.kind === "m").map((r) => r.value as Hex32),
          revokedTcb: revoked.filter((r) => r.kind === "t").map((r) => Number(r.value)),
        };
      }),
    commit: async (b) => wrap("commit", () => commit(b)),
    reset: async () => {
      wrap("reset", () => db.exec("DELETE FROM market_index_nodes; DELETE FROM market_index_revoked; DELETE FROM market_index_meta;"));
    },
    close: async () => {
      if (db.open) db.close();
    },
  };
}
