/**
 * The multi-machine store (DESIGN.md: PostgreSQL when the node runs on more than one
 * machine), behind the same Store interface as the embedded SQLite one.
 *
 * Semantics kept from ./sqlite.ts:
 *   - startUsage resolves only once its INSERT has committed (autocommit; with the
 *     server's default synchronous_commit=on that means flushed to the WAL), so the
 *     gateway sends no response byte before the in_flight row is durable (kill safety).
 *   - finishUsage and putSignature resolve once committed: visible to every read, from
 *     any machine. PostgreSQL batches concurrent commits' WAL flushes itself
 *     (commit_delay / group commit in the WAL writer), so no client-side batching here.
 *   - A signature row belongs to the key that wrote it: ON CONFLICT updates it only when
 *     key_id IS NOT DISTINCT FROM the new row's (NULL = NULL for --no-auth). The same
 *     holds for an alias (the upstream's completion id), written in the same statement.
 *   - in_flight rows are marked `interrupted` at open — only this node's (node_id, from
 *     ./node-id.ts), so a node starting never touches another node's running requests.
 *   - Migrations are recorded in a table, applied under an advisory lock so nodes that
 *     start together do not race.
 */
import pg from "pg";
import { StoreError } from "../errors.js";
import { DEFAULT_NODE_ID } from "./node-id.js";
import { PG_MIGRATIONS, PG_MIGRATIONS_TABLE } from "./postgres-migrations.js";
import type { ApiKeyRecord, Store } from "./store.js";
import { toKey, toSig, toUsage, type Row } from "./rows.js";

export interface PostgresStoreOptions {
  /** postgres://user@host:port/db (libpq-style URL, as `pg` parses it). */
  readonly url: string;
  /** Schema for every table (search_path); default: the server's (usually `public`). */
  readonly schema?: string;
  /** How long to wait for a connection; default 10 000 ms. */
  readonly connectTimeoutMs?: number;
  /** Connections at most; default 10. */
  readonly maxConnections?: number;
  /** Written into every usage row; the open recovers only this node's rows (./node-id.ts). Default "local". */
  readonly nodeId?: string;
  /** Mark this node's in_flight rows interrupted at open (default true); false for `cloister keys`. */
  readonly recover?: boolean;
}

export interface PostgresStore extends Store {
  /** How many in_flight rows this open found and marked interrupted. */
  readonly interruptedAtOpen: number;
}

/** Arbitrary constant key for pg_advisory_xact_lock: "cloister" migrations. */
const MIGRATION_LOCK = 0x636c6f69;

export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s);
}

/** The URL with any password replaced, for messages and logs. */
export function redactPostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres://…";
  }
}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
    throw new StoreError("STORE_OPEN_FAILED", `invalid PostgreSQL schema name "${options.schema}"`);
  }
  const where = redactPostgresUrl(options.url);
  const nodeId = options.nodeId ?? DEFAULT_NODE_ID;
  const pool = new pg.Pool({
    connectionString: options.url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    max: options.maxConnections ?? 10,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle connection dropped by the server must not crash the node; the next query reconnects.
  pool.on("error", (err) => process.emitWarning(`store: PostgreSQL connection error (${err.message})`, { code: "STORE_CONNECTION" }));

  let interruptedAtOpen: number;
  try {
    await migrate(pool);
    // Only this node's rows (and rows from before node ids): the others' nodes are serving them.
    interruptedAtOpen =
      options.recover === false
        ? 0
        : ((await pool.query("UPDATE usage SET status = 'interrupted' WHERE status = 'in_flight' AND (node_id = $1 OR node_id IS NULL)", [nodeId])).rowCount ?? 0);
  } catch (cause) {
    await pool.end().catch(() => undefined);
    if (cause instanceof StoreError) throw cause;
    throw new StoreError("STORE_OPEN_FAILED", `cannot open the store at ${where}`, { cause });
  }

  let closed = false;
  const failed = (what: string, cause: unknown): StoreError => new StoreError("STORE_WRITE_FAILED", `store: ${what} failed`, { cause });
  const run = async (what: string, sql: string, args: readonly unknown[]): Promise<pg.QueryResult<Row>> => {
    if (closed) throw failed(what, new Error("the store is closed"));
    try {
      return await pool.query<Row>(sql, [...args]);
    } catch (cause) {
      throw failed(what, cause);
    }
  };

  return {
    interruptedAtOpen,
    createApiKey: async (k) => void (await run("createApiKey", "INSERT INTO api_keys (id, hash, name, created, revoked) VALUES ($1, $2, $3, $4, NULL)", [k.id, k.hash, k.name, k.created])),
    findApiKeyByHash: async (hash) => toKey((await run("findApiKeyByHash", "SELECT id, name, created, revoked FROM api_keys WHERE hash = $1", [hash])).rows[0]),
    listApiKeys: async () => (await run("listApiKeys", "SELECT id, name, created, revoked FROM api_keys ORDER BY created, id", [])).rows.map((r) => toKey(r) as ApiKeyRecord),
    revokeApiKey: async (id, at) => ((await run("revokeApiKey", "UPDATE api_keys SET revoked = COALESCE(revoked, $1) WHERE id = $2", [at, id])).rowCount ?? 0) > 0,
    startUsage: async (u) =>
      void (await run("startUsage", "INSERT INTO usage (request_id, key_id, model, route, status, started_at, node_id) VALUES ($1, $2, $3, $4, 'in_flight', $5, $6)", [
        u.requestId,
        u.keyId,
        u.model,
        u.route,
        u.startedAt,
        nodeId,
      ])),
    progressUsage: async (id, p) =>
      void (await run("progressUsage", "UPDATE usage SET prompt_tokens = $1, completion_tokens = $2 WHERE request_id = $3 AND status = 'in_flight'", [p.promptTokens, p.completionTokens, id])),
    finishUsage: async (id, f) =>
      void (await run("finishUsage", "UPDATE usage SET prompt_tokens = $1, completion_tokens = $2, status = $3, finished_at = $4 WHERE request_id = $5", [
        f.promptTokens,
        f.completionTokens,
        f.status,
        f.finishedAt,
        id,
      ])),
    listUsage: async (filter) => {
      const where: string[] = [];
      const args: string[] = [];
      if (filter?.keyId) (args.push(filter.keyId), where.push(`key_id = $${args.length}`));
      if (filter?.status) (args.push(filter.status), where.push(`status = $${args.length}`));
      const sql = `SELECT * FROM usage ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY started_at, request_id`;
      return (await run("listUsage", sql, args)).rows.map(toUsage);
    },
    putSignature: async (r) => {
      const args = [r.id, r.algo, r.text, r.signature, r.address, Date.now(), r.keyId ?? null];
      const alias = r.alias && r.alias !== r.id ? r.alias : null;
      // Only a row this key owns gets a name: the alias is written from what the upsert returns.
      await run("putSignature", alias ? PUT_SIG_WITH_ALIAS : PUT_SIG, alias ? [...args, alias] : args);
    },
    getSignature: async (id, algo) => toSig((await run("getSignature", GET_SIG, [id, algo])).rows[0]),
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

// Never replace a row another API key owns (see ./sqlite-sql.ts): the caller can choose ids.
const PUT_SIG =
  "INSERT INTO signatures (id, algo, text, signature, address, created, key_id) VALUES ($1, $2, $3, $4, $5, $6, $7) " +
  "ON CONFLICT (id, algo) DO UPDATE SET text = excluded.text, signature = excluded.signature, address = excluded.address, created = excluded.created " +
  "WHERE signatures.key_id IS NOT DISTINCT FROM excluded.key_id RETURNING id, algo, key_id";
// RETURNING yields no row when the upsert left another key's row alone, so no alias then;
// an alias another key holds stays that key's.
const PUT_SIG_WITH_ALIAS =
  `WITH s AS (${PUT_SIG}) INSERT INTO signature_aliases (alias, algo, id, key_id) SELECT $8, algo, id, key_id FROM s ` +
  "ON CONFLICT (alias, algo) DO UPDATE SET id = excluded.id WHERE signature_aliases.key_id IS NOT DISTINCT FROM excluded.key_id";
// By id first, then by alias; `via` orders the two so an id always wins.
const GET_SIG =
  "SELECT 0 AS via, id, algo, text, signature, address, key_id FROM signatures WHERE id = $1 AND algo = $2 " +
  "UNION ALL SELECT 1 AS via, s.id, s.algo, s.text, s.signature, s.address, s.key_id FROM signature_aliases a " +
  "JOIN signatures s ON s.id = a.id AND s.algo = a.algo WHERE a.alias = $1 AND a.algo = $2 ORDER BY via LIMIT 1";

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    // Held until COMMIT: a second node starting now waits here, then sees the migrations done.
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${PG_MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`);
    const current = Number((await client.query<Row>(`SELECT COALESCE(MAX(version), 0) AS v FROM ${PG_MIGRATIONS_TABLE}`)).rows[0]?.["v"] ?? 0);
    if (current > PG_MIGRATIONS.length) {
      throw new StoreError("STORE_SCHEMA_NEWER", `the store's schema (v${current}) is newer than this cloister (v${PG_MIGRATIONS.length})`);
    }
    for (let v = current; v < PG_MIGRATIONS.length; v++) {
      await client.query(PG_MIGRATIONS[v] ?? "");
      await client.query(`INSERT INTO ${PG_MIGRATIONS_TABLE} (version, applied_at) VALUES ($1, $2)`, [v + 1, Date.now()]);
    }
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

