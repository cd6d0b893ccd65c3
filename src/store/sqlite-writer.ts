/**
 * The store's writer thread: the group commits (./group-commit.ts) run on a worker
 * thread with its own connection to the same SQLite file, so the ~0.1–0.2 ms a commit
 * costs (its WAL frames) no longer sits on the event loop between the upstream's answer
 * and the client's. Nothing about durability changes: a durable write still resolves
 * only once its transaction is in the WAL (journal_mode=WAL, synchronous=NORMAL, as on
 * the main connection), and the store awaits `flush()` before every read, so this
 * process's reads still see every write it queued (WAL readers see committed data).
 *
 * If the thread fails, the durable writes it held are failed (each rejects: its request is
 * refused, fail closed); its deferred writes are done again, in order, on the main
 * connection, where every later write commits too. Done again is safe: every statement
 * but startUsage is an upsert or an update, and a startUsage the thread did commit fails
 * as a duplicate, which only reaches onError (with the journal: a `.kept` record that
 * a replay inserts or ignores).
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";
import { SQLITE_SQL } from "./sqlite-sql.js";
import { commitBatch, createGroupCommit, createQueue, runWrite, settleBatch, type Entry, type GroupCommit, type Statements, type WriteErrorHandler, type WriteStatement } from "./group-commit.js";

const WRITE_STATEMENTS: readonly WriteStatement[] = ["startUsage", "progressUsage", "finishUsage", "putSig", "putAlias"];

/** CommonJS run with `eval: true`, so it needs no loader (tests run from TypeScript sources). */
const WORKER_SOURCE = `
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.sqlite);
const db = new Database(workerData.path);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("busy_timeout = 5000");
const stmts = {};
for (const [name, sql] of Object.entries(workerData.sql)) stmts[name] = db.prepare(sql);
const runWrite = ${runWrite.toString()};
const commitBatch = ${commitBatch.toString()};
const runAll = db.transaction((writes) => { for (const w of writes) runWrite(stmts, w); });
const why = (e) => ({ message: e && e.message ? String(e.message) : String(e), code: e && e.code ? String(e.code) : undefined });
parentPort.on("message", (m) => {
  if (m.t === "close") { db.close(); parentPort.postMessage({ t: "closed" }); return; }
  const failed = commitBatch(stmts, runAll, JSON.parse(m.writes)).map(([i, e]) => [i, why(e)]);
  parentPort.postMessage({ t: "done", id: m.id, failed });
});
`;

interface Done {
  readonly t: "done";
  readonly id: number;
  readonly failed: ReadonlyArray<readonly [number, { message: string; code?: string }]>;
}

/** An error the writer thread reported for one write (better-sqlite3's SqliteError code kept). */
export class WriterThreadError extends Error {
  override readonly name = "WriterThreadError";
  constructor(
    message: string,
    readonly sqliteCode?: string,
  ) {
    super(message);
  }
}

function isDone(m: unknown): m is Done {
  return typeof m === "object" && m !== null && (m as { t?: unknown }).t === "done" && typeof (m as { id?: unknown }).id === "number";
}

/**
 * Commits on a writer thread. `db` is the main connection, used only if the thread fails
 * (and `stmts` its prepared writes).
 */
export function createWorkerGroupCommit(path: string, db: Database.Database, stmts: Statements, onError: WriteErrorHandler): GroupCommit & { readonly thread: Worker } {
  const sql = Object.fromEntries(WRITE_STATEMENTS.map((k) => [k, SQLITE_SQL[k]]));
  // execArgv: [] so the parent's flags (--input-type=module, loaders) do not change how the CommonJS source runs.
  const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { sqlite: createRequire(import.meta.url).resolve("better-sqlite3"), path, sql } });
  let fallback: GroupCommit | null = null;
  let closed = false;
  let closing = false;
  let closeDone: Promise<void> | null = null;
  let seq = 0;
  const inflight = new Map<number, { entries: Entry[]; settle: () => void }>();
  let last: Promise<void> = Promise.resolve();

  const fail = (why: Error): void => {
    if (fallback) return;
    fallback = createGroupCommit(db, stmts, onError);
    for (const { entries, settle } of inflight.values()) {
      // A batch posted to a thread that was already dying was never run: a request's start
      // lost here left its finish updating no row (the test saw it under load).
      for (const e of entries) {
        if (e.done) e.done(why);
        else fallback.defer(e.write);
      }
      settle();
    }
    inflight.clear();
    onError(why);
    // What is queued and not sent yet goes to the main connection now, in order: a write
    // made after this goes there directly, and must not overtake them (a request's
    // finish ahead of its start would update no row).
    q.send();
  };
  worker.on("message", (m: unknown) => {
    if (!isDone(m)) return;
    const batch = inflight.get(m.id);
    if (!batch) return;
    inflight.delete(m.id);
    settleBatch(batch.entries, new Map(m.failed.map(([i, e]) => [i, new WriterThreadError(e.message, e.code)])), onError);
    batch.settle();
    hold();
  });
  worker.on("error", (err) => fail(err));
  worker.on("exit", (code) => {
    if (!closed) fail(new Error(`the store's writer thread exited (${code})`));
  });
  // Held (ref) only while a batch awaits its commit: an idle store nobody closed must not
  // keep the process alive, and a process must not exit with a commit unanswered.
  // (Adding a "message" listener refs the port, so this comes after the listeners.)
  const hold = (): void => {
    if (inflight.size > 0 || closing) worker.ref();
    else worker.unref();
  };
  hold();

  const q = createQueue(
    (entries) => {
      if (fallback) {
        // Committed on the main connection now (the thread is gone).
        for (const e of entries) (e.done ? fallback.durable(e.write).then(() => e.done?.(undefined), e.done) : fallback.defer(e.write));
        return;
      }
      const id = ++seq;
      let writes: string;
      try {
        // As one JSON string: structured-cloning a few small objects cost ~50 µs here, copying a string far less.
        writes = JSON.stringify(entries.map((e) => e.write));
        worker.postMessage({ t: "write", id, writes });
      } catch (err) {
        for (const e of entries) (e.done ? e.done(err) : onError(err, e.write));
        return;
      }
      last = new Promise<void>((settle) => inflight.set(id, { entries, settle }));
      hold();
    },
    () => !closed,
    onError,
  );

  return {
    thread: worker,
    durable: (w) => (fallback ? fallback.durable(w) : q.durable(w)),
    defer: (w) => (fallback ? fallback.defer(w) : q.defer(w)),
    flush: async () => {
      q.send();
      await last;
      if (fallback) await fallback.flush();
    },
    close: () => (closeDone ??= closeThread()),
  };

  async function closeThread(): Promise<void> {
    closing = true;
    hold();
    q.send();
    await last;
    closed = true;
    if (fallback) return fallback.close();
    await new Promise<void>((resolve) => {
      const onMsg = (m: unknown): void => {
        if (typeof m === "object" && m !== null && (m as { t?: unknown }).t === "closed") resolve();
      };
      worker.on("message", onMsg);
      worker.once("exit", () => resolve());
      worker.postMessage({ t: "close" });
    });
    await worker.terminate();
  }
}
