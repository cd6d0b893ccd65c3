/**
 * Group commit for SQLite writes: queued writes commit together, in one transaction,
 * instead of one transaction each. Each commit appends at least one 4 KiB WAL frame per
 * page it touched, so fewer, larger commits are what saves the time (three autocommit
 * transactions per completion cost ~0.1–0.25 ms of the gateway's single thread,
 * bench/gateway.bench.ts).
 *
 * Two kinds of write:
 *   - `durable(write)`: its promise resolves once committed. It commits at the end of the
 *     current event-loop turn (setImmediate), with every write queued by then, so the
 *     in_flight usage rows of requests that arrive together share one commit, and the
 *     commit runs while the upstream request is already on its way.
 *   - `defer(write)`: resolves at once; commits with the next durable write or within
 *     FLUSH_MS, whichever comes first. What a kill can lose: the last FLUSH_MS of these.
 * `flush()` commits everything queued now; the store awaits it before every read, so
 * reads in this process always see queued writes.
 *
 * A write is data (a statement's name and its arguments), not a closure, so the same
 * queue can commit on this thread (here) or on the store's writer thread
 * (./sqlite-writer.ts), which takes the commit off the event loop.
 */
import type Database from "better-sqlite3";
import type { SQLITE_SQL } from "./sqlite-sql.js";

/** JSON's values: the writer thread gets its writes as one JSON string (./sqlite-writer.ts). */
export type SqlValue = string | number | null;

/** The statements a queued write may run (./sqlite-sql.ts). */
export type WriteStatement = keyof Pick<typeof SQLITE_SQL, "startUsage" | "progressUsage" | "finishUsage" | "putSig" | "putAlias">;

export interface Write {
  readonly stmt: WriteStatement;
  readonly args: readonly SqlValue[];
  /** Runs only when `stmt` changed a row (an alias only for a signature row this key owns). */
  readonly then?: Write;
}

export interface GroupCommit {
  /** Queues a write that commits at the end of this event-loop turn; resolves once committed. */
  durable(write: Write): Promise<void>;
  /** Queues a write that commits within FLUSH_MS (or earlier with another commit). */
  defer(write: Write): void;
  /** Commits everything queued; resolves once that is committed. */
  flush(): Promise<void>;
  /** Commits what is queued and stops; later writes fail. */
  close(): Promise<void>;
}

/** More than this many queued writes commit at once rather than wait. */
const MAX_QUEUED = 512;
/** How long a deferred write may wait: bounds what a SIGKILL can lose (the client already holds its signature). */
export const FLUSH_MS = 10;

export type Statements = Readonly<Record<WriteStatement, { run(...args: readonly SqlValue[]): { changes: number } }>>;

/**
 * Runs one write. Self-contained on purpose: the writer thread runs this very function
 * (its source text), so both paths commit the same way.
 */
export function runWrite(stmts: Statements, w: Write): void {
  const stmt = stmts[w.stmt];
  if (!stmt) throw new Error(`unknown statement ${String(w.stmt)}`);
  const changed = stmt.run(...w.args).changes > 0;
  if (w.then && changed) runWrite(stmts, w.then);
}

/**
 * Commits a batch: one write by itself (autocommit is cheaper than BEGIN…COMMIT), more in
 * one transaction (`runAll`); if that fails, one by one, so one bad write does not take
 * the others down. Returns the writes that failed, by index. Self-contained like runWrite:
 * the writer thread runs its source text too.
 */
export function commitBatch(stmts: Statements, runAll: (writes: readonly Write[]) => void, writes: readonly Write[]): Array<[number, unknown]> {
  const failed: Array<[number, unknown]> = [];
  try {
    if (writes.length === 1 && writes[0]) runWrite(stmts, writes[0]);
    else runAll(writes);
  } catch (batchErr) {
    if (writes.length === 1) failed.push([0, batchErr]);
    else
      writes.forEach((w, i) => {
        try {
          runWrite(stmts, w);
        } catch (err) {
          failed.push([i, err]);
        }
      });
  }
  return failed;
}

export interface Entry {
  readonly write: Write;
  readonly done?: (err: unknown) => void;
}

/**
 * Hears of a deferred write that failed after its caller was answered, with the write
 * (the store keeps a failed in_flight row's record for the next start: ./intent-journal.ts).
 */
export type WriteErrorHandler = (err: unknown, write?: Write) => void;

/** Answers a committed batch: each durable write's promise, and onError for a failed deferred one. */
export function settleBatch(entries: readonly Entry[], failed: ReadonlyMap<number, unknown>, onError: WriteErrorHandler): void {
  entries.forEach((e, i) => {
    const err = failed.get(i);
    if (e.done) e.done(err);
    else if (err !== undefined) onError(err, e.write);
  });
}

/** The queue and its timers, whatever commits the batches. */
export function createQueue(commit: (entries: Entry[]) => void, isOpen: () => boolean, onError: WriteErrorHandler) {
  let queue: Entry[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let immediate: ReturnType<typeof setImmediate> | null = null;
  const send = (): void => {
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    timer = null;
    immediate = null;
    if (queue.length === 0) return;
    const entries = queue;
    queue = [];
    if (!isOpen()) {
      // Never dropped in silence: a deferred write's caller was answered already.
      const closed = new Error("the store is closed");
      for (const e of entries) (e.done ? e.done(closed) : onError(closed, e.write));
      return;
    }
    commit(entries);
  };
  const push = (e: Entry): void => {
    queue.push(e);
    if (queue.length >= MAX_QUEUED) send();
  };
  return {
    send,
    durable(write: Write): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        push({ write, done: (err) => (err === undefined ? resolve() : reject(err)) });
        if (queue.length > 0) immediate ??= setImmediate(send);
      });
    },
    defer(write: Write): void {
      push({ write });
      if (queue.length > 0) timer ??= setTimeout(send, FLUSH_MS);
    },
  };
}

/** Commits on this thread, on the store's own connection. */
export function createGroupCommit(db: Database.Database, stmts: Statements, onError: WriteErrorHandler): GroupCommit {
  const runAll = db.transaction((writes: readonly Write[]) => {
    for (const w of writes) runWrite(stmts, w);
  });
  const commit = (entries: Entry[]): void => settleBatch(entries, new Map(commitBatch(stmts, runAll, entries.map((e) => e.write))), onError);
  let closed = false;
  const q = createQueue(commit, () => !closed && db.open, onError);
  return {
    durable: q.durable,
    defer: q.defer,
    flush: () => (q.send(), Promise.resolve()),
    close: () => {
      q.send();
      closed = true;
      return Promise.resolve();
    },
  };
}
