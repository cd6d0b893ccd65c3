/**
 * The embedded store: one SQLite file in the data dir, WAL mode.
 *
 * Kill safety: api-key writes commit before the call returns, and startUsage (the
 * in_flight row) resolves only once committed, or, with `journal` (a serving node), once
 * its record is appended to the in_flight journal (./intent-journal.ts), which the next
 * open replays before it marks rows interrupted. With journal_mode=WAL and
 * synchronous=NORMAL a commit survives the process being killed (it may be lost only on
 * power failure before the next checkpoint — see https://sqlite.org/wal.html
 * "durability"). Usage rows are written when a request starts (in_flight) and completed
 * when it ends, so a killed node leaves in_flight rows that the next open marks
 * `interrupted` rather than losing them.
 *
 * Usage and signature writes are group-committed (./group-commit.ts): in_flight rows of
 * requests that start in the same event-loop turn share one commit; completions and
 * signatures are visible to every read of this store at once and durable within
 * FLUSH_MS (10 ms) or with the next commit. A kill inside that window leaves the row
 * `interrupted`, never lost. A serving node (`writer: "worker"`) runs those commits on a
 * writer thread with its own connection (./sqlite-writer.ts), off the event loop.
 *
 * One signature row per exchange; the upstream's completion id is an alias of it
 * (./migrations.ts, migration 4: what each commit's pages cost).
 */
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { StoreError } from "../errors.js";
import { createGroupCommit, type GroupCommit, type Write, type WriteErrorHandler } from "./group-commit.js";
import { createWorkerGroupCommit } from "./sqlite-writer.js";
import { MIGRATIONS } from "./migrations.js";
import { SQLITE_SQL } from "./sqlite-sql.js";
import { deadJournals, openIntentJournal, readJournal, removeJournals, type IntentJournal } from "./intent-journal.js";
import { DEFAULT_NODE_ID } from "./node-id.js";
import { ensurePrivateDbFiles, ensurePrivateDir } from "./private-files.js";
import type { ApiKeyRecord, Store, UsageFinish } from "./store.js";
import { toKey, toSig, toUsage } from "./rows.js";

export interface SqliteStoreOptions {
  /** File path, or ":memory:" for tests. */
  readonly path: string;
  /** A group-committed write failed after its caller was answered. Default: a process warning. */
  readonly onWriteError?: (err: StoreError) => void;
  /** Written into every usage row; the open recovers only this node's rows (./node-id.ts). Default "local". */
  readonly nodeId?: string;
  /** Mark this node's in_flight rows interrupted at open (default true); false for `cloister keys`. */
  readonly recover?: boolean;
  /**
   * Where group commits run: "worker" (a writer thread, ./sqlite-writer.ts: `cloister up`)
   * or "thread" (this one; the default, and always for ":memory:").
   */
  readonly writer?: "thread" | "worker";
  /**
   * The in_flight journal (./intent-journal.ts: `cloister up`): a request's in_flight
   * record is made kill-safe by one appended line instead of a commit of its own, and its
   * row commits with the next group of deferred writes. Needs a file and `recover`.
   */
  readonly journal?: boolean;
}

export interface SqliteStore extends Store {
  /** How many in_flight rows this open found and marked interrupted. */
  readonly interruptedAtOpen: number;
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  let db: Database.Database;
  try {
    if (options.path !== ":memory:") {
      // Private to this user (./private-files.ts): signature texts confirm guessed prompts.
      ensurePrivateDir(dirname(options.path));
      ensurePrivateDbFiles(options.path);
    }
    db = new Database(options.path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 5000");
    migrate(db);
  } catch (cause) {
    if (cause instanceof StoreError) throw cause;
    throw new StoreError("STORE_OPEN_FAILED", `cannot open the store at ${options.path}`, { cause });
  }
  const nodeId = options.nodeId ?? DEFAULT_NODE_ID;
  const journaled = options.journal === true && options.recover !== false && options.path !== ":memory:";
  let interruptedAtOpen = 0;
  try {
    if (options.recover !== false) {
      // What killed runs left in their journals first (rows they had not committed yet),
      // then every in_flight row of this node is interrupted; only then are those files
      // removed. A journal whose process still runs (another node on this file) is not touched.
      const replay = db.prepare(SQLITE_SQL.replayStart);
      const dead = options.path === ":memory:" ? [] : deadJournals(options.path);
      const left = readJournal(dead).filter((r) => r.length === 6);
      db.transaction(() => {
        for (const r of left) replay.run(...r);
        interruptedAtOpen = db.prepare(SQLITE_SQL.recover).run(nodeId).changes;
      })();
      removeJournals(dead);
    }
  } catch (cause) {
    db.close();
    throw new StoreError("STORE_OPEN_FAILED", `cannot recover the store at ${options.path}`, { cause });
  }

  const q = {
    insertKey: db.prepare(SQLITE_SQL.insertKey),
    keyByHash: db.prepare(SQLITE_SQL.keyByHash),
    listKeys: db.prepare(SQLITE_SQL.listKeys),
    revokeKey: db.prepare(SQLITE_SQL.revokeKey),
    startUsage: db.prepare(SQLITE_SQL.startUsage),
    progressUsage: db.prepare(SQLITE_SQL.progressUsage),
    finishUsage: db.prepare(SQLITE_SQL.finishUsage),
    putSig: db.prepare(SQLITE_SQL.putSig),
    putAlias: db.prepare(SQLITE_SQL.putAlias),
    getSig: db.prepare(SQLITE_SQL.getSig),
  };

  const onWriteError =
    options.onWriteError ?? ((err: StoreError) => process.emitWarning(`${err.message} (${err.cause instanceof Error ? err.cause.message : "unknown"})`, { code: err.code }));
  let journal: IntentJournal | null = null;
  const onGroupError: WriteErrorHandler = (cause, write) => {
    // A failed in_flight row keeps its record for the next start (the journal's own file).
    if (write?.stmt === "startUsage") journal?.keep(write.args);
    onWriteError(new StoreError("STORE_WRITE_FAILED", "store: a group-committed write failed", { cause }));
  };
  const group: GroupCommit =
    options.writer === "worker" && options.path !== ":memory:" ? createWorkerGroupCommit(options.path, db, q, onGroupError) : createGroupCommit(db, q, onGroupError);
  const failed = (what: string, cause: unknown): StoreError => new StoreError("STORE_WRITE_FAILED", `store: ${what} failed`, { cause });
  if (journaled) {
    try {
      journal = openIntentJournal(options.path, nodeId, () => group.flush(), (cause) => onWriteError(failed("keeping the in_flight journal", cause)));
    } catch (cause) {
      void group.close();
      db.close();
      throw new StoreError("STORE_OPEN_FAILED", `cannot open the in_flight journal beside ${options.path}`, { cause });
    }
  }

  // A read of usage or signatures first commits what is queued, so it sees queued writes.
  const guard = async <T>(what: string, fn: () => T): Promise<T> => {
    try {
      if (db.open) await group.flush();
      return fn();
    } catch (cause) {
      throw failed(what, cause);
    }
  };
  // API keys are never queued, so their statements need no flush: an authenticated
  // request's key lookup does not wait for the previous request's queued writes.
  const keys = <T>(what: string, fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (cause) {
      return Promise.reject(failed(what, cause));
    }
  };
  // Set the moment close() is called: a write after that is refused, not queued and lost.
  let closing = false;
  const deferred = (what: string, write: Write): Promise<void> => {
    if (!db.open || closing) return Promise.reject(failed(what, new Error("the store is closed")));
    group.defer(write);
    return Promise.resolve();
  };

  return {
    interruptedAtOpen,
    createApiKey: (k) => keys("createApiKey", () => void q.insertKey.run(k.id, k.hash, k.name, k.created)),
    findApiKeyByHash: (hash) => keys("findApiKeyByHash", () => toKey(q.keyByHash.get(hash))),
    listApiKeys: () => keys("listApiKeys", () => q.listKeys.all().map((r) => toKey(r) as ApiKeyRecord)),
    revokeApiKey: (id, at) => keys("revokeApiKey", () => q.revokeKey.run(at, id).changes > 0),
    // Resolves once committed, or with the journal once its record is written: the gateway
    // sends no response byte before (kill safety).
    startUsage: (u) => {
      if (!db.open || closing) return Promise.reject(failed("startUsage", new Error("the store is closed")));
      const write: Write = { stmt: "startUsage", args: [u.requestId, u.keyId, u.model, u.route, u.startedAt, nodeId] };
      if (!journal) return group.durable(write).catch((cause: unknown) => Promise.reject(failed("startUsage", cause)));
      // The row is queued only once its record is written: a refused request leaves neither.
      return journal.append(write.args, () => group.defer(write)).catch((cause: unknown) => Promise.reject(failed("startUsage", cause)));
    },
    progressUsage: (id, p) => deferred("progressUsage", { stmt: "progressUsage", args: [p.promptTokens, p.completionTokens, id] }),
    finishUsage: (id, f: UsageFinish) =>
      deferred("finishUsage", { stmt: "finishUsage", args: [f.promptTokens, f.completionTokens, f.status, f.finishedAt, id] }),
    listUsage: (filter) =>
      guard("listUsage", () => {
        const where: string[] = [];
        const args: string[] = [];
        if (filter?.keyId) (where.push("key_id = ?"), args.push(filter.keyId));
        if (filter?.status) (where.push("status = ?"), args.push(filter.status));
        const sql = `SELECT * FROM usage ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY started_at, request_id`;
        return db.prepare(sql).all(...args).map(toUsage);
      }),
    putSignature: (r) => {
      const created = Date.now();
      const keyId = r.keyId ?? null;
      const alias = r.alias && r.alias !== r.id ? r.alias : null;
      // Only a row this key owns gets a name (`then`: only when putSig changed a row), so an
      // alias never points at another key's row.
      return deferred("putSignature", {
        stmt: "putSig",
        args: [r.id, r.algo, r.text, r.signature, r.address, created, keyId],
        ...(alias ? { then: { stmt: "putAlias", args: [alias, r.algo, r.id, keyId] } } : {}),
      });
    },
    getSignature: (id, algo) => guard("getSignature", () => toSig(q.getSig.get({ id, algo }))),
    close: async () => {
      closing = true;
      // Before the last commit: a record written after it began would queue its row too late.
      journal?.refusePending();
      let committed = false;
      try {
        await group.close();
        committed = true;
      } finally {
        journal?.close(committed);
        if (db.open) db.close();
      }
    },
  };
}

function migrate(db: Database.Database): void {
  const current = Number(db.pragma("user_version", { simple: true }));
  if (current > MIGRATIONS.length) {
    throw new StoreError("STORE_SCHEMA_NEWER", `the store's schema (v${current}) is newer than this cloister (v${MIGRATIONS.length})`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] ?? "");
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** The store's file inside a data dir. */
export function storePath(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, "")}/cloister.db`;
}
