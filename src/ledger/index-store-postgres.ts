/**
 * The registry index in PostgreSQL, for many registered nodes or several Cloister nodes
 * sharing one index. Tables `market_index_*` in the given schema (search_path). Several
 * indexers may write the same schema: each commit takes an advisory lock and is skipped
 * when the stored final block is already at or past its own (the final state at a block
 * is a function of the chain, so whoever got there first wrote the same rows).
 */
import pg from "pg";
import { LedgerError } from "./errors.js";
import { decodeRecord, encodeRecord, type FinalState, type IndexStore } from "./index-store.js";
import { redactPostgresUrl } from "../store/postgres.js";
import type { EvmAddress, Hex32 } from "./typed-data.js";

/** Arbitrary constant for pg_advisory_xact_lock: "cloister market index". */
const LOCK = 0x636d6978;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS market_index_meta (id INTEGER PRIMARY KEY CHECK (id = 1), registry TEXT NOT NULL, finalized_block NUMERIC NOT NULL, finalized_hash TEXT);
CREATE TABLE IF NOT EXISTS market_index_nodes (enclave TEXT PRIMARY KEY, expires_at BIGINT NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS market_index_revoked (kind TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, value));
`;

export interface PostgresIndexStoreOptions {
  readonly url: string;
  readonly schema?: string;
  readonly connectTimeoutMs?: number;
}

export async function openPostgresIndexStore(o: PostgresIndexStoreOptions): Promise<IndexStore> {
  if (o.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(o.schema)) throw new LedgerError("INDEX_OPEN_FAILED", `invalid PostgreSQL schema name "${o.schema}"`);
  const pool = new pg.Pool({ connectionString: o.url, connectionTimeoutMillis: o.connectTimeoutMs ?? 10_000, max: 4, ...(o.schema ? { options: `-c search_path=${o.schema}` } : {}) });
  pool.on("error", (err) => process.emitWarning(`registry index: PostgreSQL connection error (${err.message})`, { code: "INDEX_CONNECTION" }));
  const where = redactPostgresUrl(o.url);
  try {
    const c = await pool.connect();
    try {
      await c.query("BEGIN");
      await c.query("SELECT pg_advisory_xact_lock($1)", [LOCK]);
      await c.query(SCHEMA);
      await c.query("COMMIT");
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  } catch (cause) {
    await pool.end().catch(() => {});
    throw new LedgerError("INDEX_OPEN_FAILED", `cannot open the registry index at ${where}`, { cause });
  }
  const tx = async (what: string, f: (c: pg.PoolClient) => Promise<void>): Promise<void> => {
    const c = await pool.connect().catch((cause: unknown) => {
      throw new LedgerError("INDEX_WRITE_FAILED", `registry index: ${what}: no connection`, { cause });
    });
    try {
      await c.query("BEGIN");
      await c.query("SELECT pg_advisory_xact_lock($1)", [LOCK]);
      await f(c);
      await c.query("COMMIT");
    } catch (cause) {
      await c.query("ROLLBACK").catch(() => {});
      if (cause instanceof LedgerError) throw cause;
      throw new LedgerError("INDEX_WRITE_FAILED", `registry index: ${what} failed`, { cause });
    } finally {
      c.release();
    }
  };
  return {
    kind: "postgres",
    async load(): Promise<FinalState> {
      try {
        const meta = (await pool.query<{ registry: string; finalized_block: string; finalized_hash: string | null }>("SELECT registry, finalized_block::text AS finalized_block, finalized_hash FROM market_index_meta WHERE id = 1")).rows[0];
        const nodes = (await pool.query<{ record: string }>("SELECT record FROM market_index_nodes")).rows.map((r) => decodeRecord(r.record));
        const revoked = (await pool.query<{ kind: string; value: string }>("SELECT kind, value FROM market_index_revoked")).rows;
        return {
          meta: meta ? { registry: meta.registry as EvmAddress, finalizedBlock: BigInt(meta.finalized_block), finalizedHash: meta.finalized_hash as Hex32 | null } : null,
          nodes,
          revokedMeasurements: revoked.filter((r) => r.kind === "m").map((r) => r.value as Hex32),
          revokedTcb: revoked.filter((r) => r.kind === "t").map((r) => Number(r.value)),
        };
      } catch (cause) {
        if (cause instanceof LedgerError) throw cause;
        throw new LedgerError("INDEX_WRITE_FAILED", "registry index: load failed", { cause });
      }
    },
    commit: (b) =>
      tx("commit", async (c) => {
        const at = (await c.query<{ registry: string; finalized_block: string }>("SELECT registry, finalized_block::text AS finalized_block FROM market_index_meta WHERE id = 1")).rows[0];
        if (at && at.registry === b.meta.registry && BigInt(at.finalized_block) >= b.meta.finalizedBlock) return;
        if (b.nodes.length) {
          await c.query(
            "INSERT INTO market_index_nodes (enclave, expires_at, record) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) ON CONFLICT (enclave) DO UPDATE SET expires_at = excluded.expires_at, record = excluded.record",
            [b.nodes.map((n) => n.enclave), b.nodes.map((n) => n.expiresAt.toString()), b.nodes.map(encodeRecord)],
          );
        }
        for (const m of b.measurements) await c.query(m.revoked ? "INSERT INTO market_index_revoked VALUES ('m', $1) ON CONFLICT DO NOTHING" : "DELETE FROM market_index_revoked WHERE kind = 'm' AND value = $1", [m.digest]);
        for (const t of b.tcb) await c.query(t.revoked ? "INSERT INTO market_index_revoked VALUES ('t', $1) ON CONFLICT DO NOTHING" : "DELETE FROM market_index_revoked WHERE kind = 't' AND value = $1", [String(t.status)]);
        await c.query(
          "INSERT INTO market_index_meta (id, registry, finalized_block, finalized_hash) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET registry = excluded.registry, finalized_block = excluded.finalized_block, finalized_hash = excluded.finalized_hash",
          [b.meta.registry, b.meta.finalizedBlock.toString(), b.meta.finalizedHash],
        );
      }),
    reset: () =>
      tx("reset", async (c) => {
        await c.query("DELETE FROM market_index_nodes; DELETE FROM market_index_revoked; DELETE FROM market_index_meta;");
      }),
    close: () => pool.end(),
  };
}
