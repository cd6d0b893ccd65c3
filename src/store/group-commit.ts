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
 * `flush()` commits everything queued now; the store runs it before every read, so reads
 * in this process always see queued writes.
 */
import type Database from "better-sqlite3";

export interface GroupCommit {
  /** Queues a write that commits at the end of this event-loop turn; resolves once committed. */
  durable(write: () => void): Promise<void>;
  /** Queues a write that commits within FLUSH_MS (or earlier with another commit). */
  defer(write: () => void): void;
  /** Commits everything queued, now. */
  flush(): void;
  /** Writes queued and not yet committed. */
  readonly pending: () => number;
}

/** More than this many queued writes commit at once rather than wait. */
const MAX_QUEUED = 512;
/** How long a deferred write may wait: bounds what a SIGKILL can lose (the client already holds its signature). */
export const FLUSH_MS = 10;

interface Entry {
  readonly write: () => void;
  readonly done?: (err: unknown) => void;
}

export function createGroupCommit(db: Database.Database, onError: (err: unknown) => void): GroupCommit {
  let queue: Entry[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let immediate: ReturnType<typeof setImmediate> | null = null;
  const runAll = db.transaction((entries: Entry[]) => {
    for (const e of entries) e.write();
  });

  const commit = (entries: Entry[]): void => {
    try {
      // A lone write needs no BEGIN…COMMIT around it: autocommit is cheaper.
      if (entries.length === 1) entries[0]?.write();
      else runAll(entries);
    } catch (batchErr) {
      if (entries.length === 1) {
        const e = entries[0];
        if (e?.done) e.done(batchErr);
        else onError(batchErr);
        return;
      }
      // One bad write must not take the others down with it: retry them one by one.
      for (const e of entries) {
        try {
          e.write();
        } catch (err) {
          if (e.done) e.done(err);
          else onError(err);
          continue;
        }
        e.done?.(undefined);
      }
      return;
    }
    for (const e of entries) e.done?.(undefined);
  };

  const flush = (): void => {
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    timer = null;
    immediate = null;
    if (queue.length === 0) return;
    const entries = queue;
    queue = [];
    if (!db.open) {
      for (const e of entries) e.done?.(new Error("the store is closed"));
      return;
    }
    commit(entries);
  };

  const push = (e: Entry): void => {
    queue.push(e);
    if (queue.length >= MAX_QUEUED) flush();
  };

  return {
    durable(write) {
      return new Promise<void>((resolve, reject) => {
        push({ write, done: (err) => (err === undefined ? resolve() : reject(err)) });
        if (queue.length > 0) immediate ??= setImmediate(flush);
      });
    },
    defer(write) {
      push({ write });
      if (queue.length > 0) timer ??= setTimeout(flush, FLUSH_MS);
    },
    flush,
    pending: () => queue.length,
  };
}
