/**
 * The in_flight journal: how a serving node makes a request's in_flight usage row safe
 * against a kill without a commit per request.
 *
 * The rule (docs/decisions.md): no response byte leaves before the request's in_flight
 * record would survive the process being killed. A SQLite commit in WAL mode with
 * synchronous=NORMAL gives exactly that (its frames are written to the WAL, not synced),
 * but costs a transaction and ~8 page frames per request, on the request's path. This
 * journal gives the same guarantee with one write(2) of one line (the startUsage
 * arguments) to a file opened O_APPEND: once write returns, the kernel holds the bytes,
 * whatever happens to the process (like the WAL, they can be lost on power failure before
 * the kernel writes them back). The row itself is then an ordinary deferred write, so it
 * commits with the other rows of the next ~10 ms (./group-commit.ts) in one transaction.
 *
 * Two files, used in turn. Once the current one holds ROTATE_BYTES, new records go to the
 * other, and the full one is emptied only after a flush of the store committed every
 * write queued so far (all of its records among them) with no write reported failed
 * since it was started. A store that opens (recover) first replays every record left in
 * either file (INSERT OR IGNORE, so a row that did commit, finished or not, is left as it
 * is), then marks its in_flight rows interrupted as before, then empties both.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, statSync, truncateSync, writeSync } from "node:fs";
import type { SqlValue } from "./group-commit.js";
import { PRIVATE_FILE_MODE } from "./private-files.js";

/** A file is turned over once it holds this much (~500 records). */
export const ROTATE_BYTES = 64 * 1024;

export interface IntentJournal {
  /**
   * Appends one record: written at the end of this event-loop turn, with every record
   * appended in it, in one write(2); resolves once its line is written whole, rejects if
   * it was not (the request is then refused).
   */
  append(args: readonly SqlValue[]): Promise<void>;
  /** A group-committed write failed: nothing written since may be let go of. */
  writeFailed(): void;
  /**
   * Closes the files; `committed`: the store's last commit covered every record, so both
   * are emptied unless a write failed during this run (then they stay for the replay).
   */
  close(committed: boolean): void;
  /** The two files (for tests and messages). */
  readonly paths: readonly [string, string];
}

const SAFE = /^[A-Za-z0-9._-]{1,64}$/;

/** The journal files of one node's store: `<db>.inflight-<node id>-a` and `-b`. */
export function journalPaths(dbPath: string, nodeId: string): [string, string] {
  const tag = SAFE.test(nodeId) ? nodeId : createHash("sha256").update(nodeId).digest("hex").slice(0, 32);
  return [`${dbPath}.inflight-${tag}-a`, `${dbPath}.inflight-${tag}-b`];
}

function isRecord(v: unknown): v is SqlValue[] {
  return Array.isArray(v) && v.every((x) => x === null || typeof x === "string" || typeof x === "number");
}

/** Empties the files (after their records were replayed and committed). */
export function clearJournal(paths: readonly string[]): void {
  for (const p of paths) if (isFile(p)) truncateSync(p, 0);
}

/** Only regular files are read or emptied (a device in their place is written to, and fails as it will). */
function isFile(p: string): boolean {
  return existsSync(p) && statSync(p).isFile();
}

/**
 * The records a previous run left, oldest file first. A line that does not parse (a
 * record whose write never completed) is skipped: its request never got an answer.
 */
export function readJournal(paths: readonly string[]): SqlValue[][] {
  const out: SqlValue[][] = [];
  for (const text of paths.filter(isFile).map((p) => readFileSync(p, "utf8"))) {
    for (const line of text.split("\n")) {
      if (line === "") continue;
      try {
        const v: unknown = JSON.parse(line);
        if (isRecord(v)) out.push(v);
      } catch {
        // torn or foreign line: skipped
      }
    }
  }
  return out;
}

/**
 * Opens the journal for appends. `flush` must resolve once every write queued before the
 * call is committed (the store's group.flush()); `onError` hears of a file that could not
 * be emptied (its records stay for the next start's replay, which is harmless).
 */
export function openIntentJournal(paths: readonly [string, string], flush: () => Promise<void>, onError: (err: unknown) => void): IntentJournal {
  const fds = paths.map((p) => openSync(p, "a", PRIVATE_FILE_MODE)) as [number, number];
  let current = 0;
  let size = fstatSync(fds[0]).size;
  // Failures reported so far; a file is emptied only if none came since it was started.
  let failures = 0;
  const startedAt = [0, 0];
  let turning = false;
  let closed = false;
  let pending: Array<{ line: string; resolve: () => void; reject: (err: Error) => void }> = [];
  let writing: ReturnType<typeof setImmediate> | null = null;

  // One write for the turn's records. A short write (a full disk) leaves the lines it
  // covered whole: those resolve, the rest reject; the torn one is skipped at replay.
  const writePending = (): void => {
    if (writing) clearImmediate(writing);
    writing = null;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    const bytes = Buffer.from(batch.map((p) => p.line).join(""), "utf8");
    let n = 0;
    let failure: Error | null = null;
    try {
      n = writeSync(fds[current] as number, bytes);
      if (n !== bytes.length) failure = new Error(`journal write was short (${n} of ${bytes.length} bytes)`);
    } catch (err) {
      failure = err instanceof Error ? err : new Error("journal write failed");
    }
    size += n;
    let end = 0;
    for (const p of batch) {
      end += Buffer.byteLength(p.line, "utf8");
      if (end <= n) p.resolve();
      else p.reject(failure ?? new Error("journal write failed"));
    }
    if (size >= ROTATE_BYTES) turnOver();
  };

  const turnOver = (): void => {
    const other = 1 - current;
    // The other file still holds records (a flush failed earlier): keep on with this one.
    if (turning || fstatSync(fds[other] as number).size > 0) return;
    const full = current;
    const failuresAtStart = startedAt[full] as number;
    current = other;
    size = 0;
    startedAt[other] = failures;
    turning = true;
    flush().then(
      () => {
        turning = false;
        if (closed || failures !== failuresAtStart) return;
        try {
          ftruncateSync(fds[full] as number, 0);
        } catch (err) {
          onError(err);
        }
      },
      (err: unknown) => {
        turning = false;
        onError(err);
      },
    );
  };

  return {
    paths,
    append(args) {
      if (closed) return Promise.reject(new Error("the journal is closed"));
      return new Promise<void>((resolve, reject) => {
        pending.push({ line: `${JSON.stringify(args)}\n`, resolve, reject });
        writing ??= setImmediate(writePending);
      });
    },
    writeFailed() {
      failures++;
    },
    close(committed) {
      if (closed) return;
      closed = true;
      // Records not written yet: refused (their rows were never queued, see sqlite.ts).
      if (writing) clearImmediate(writing);
      for (const p of pending) p.reject(new Error("the journal is closed"));
      pending = [];
      for (const fd of fds) {
        try {
          if (committed && failures === 0) ftruncateSync(fd, 0);
        } catch (err) {
          onError(err); // its records stay for the next start's replay: harmless
        } finally {
          closeSync(fd);
        }
      }
    },
  };
}
