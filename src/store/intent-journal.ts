/**
 * The in_flight journal: how a serving node makes a request's in_flight usage row safe
 * against a kill without a commit per request.
 *
 * The rule (docs/decisions.md): no response byte leaves before the request's in_flight
 * record would survive the process being killed. A SQLite commit in WAL mode with
 * synchronous=NORMAL gives exactly that (its frames are written to the WAL, not synced),
 * but costs a transaction and ~8 page frames per request. This journal gives the same
 * guarantee with one write(2) per event-loop turn, of one line per record (the
 * startUsage arguments), to a file opened O_APPEND: once write returns, the kernel holds
 * the bytes whatever happens to the process (like the WAL's, they can be lost on power
 * failure before the kernel writes them back). The row itself is then queued as an
 * ordinary deferred write (./group-commit.ts), right after its line is written.
 *
 * Each process owns its files (`<db>.inflight-<node>.<pid>-<random>.a` and `.b`), so a
 * second process on the same data dir never empties a live node's journal. They are used
 * in turn: once the current one holds ROTATE_BYTES, records go to the other, and the full
 * one is emptied once a flush of the store has committed every write queued so far (all
 * of its rows among them). A row whose commit failed has its record written again, at
 * once, to a third file (`.kept`) that is never emptied during the run, so emptying the
 * old one never loses it; a run that had one keeps its files at close. The next open replays every journal whose process is gone
 * (INSERT OR IGNORE, so a row that did commit, finished or not, stays as it is), marks
 * rows interrupted as before, and removes those files.
 *
 * "Gone" is judged by a lock each process holds on its own `.lock` file for as long as its
 * journal is open: a POSIX record lock (SQLite's, on a database that holds nothing: Node
 * has no fcntl of its own), which the kernel releases the moment the process dies, however
 * it dies. A pid would not do: a killed node's pid taken by a new process kept its journal
 * from being replayed until that process ended, and two containers sharing one data dir
 * from different pid namespaces could take each other's live journal for a dead one. A
 * journal with no lock file (written before the locks) is judged by its pid, as it was.
 * One SQLite file is for one machine's processes (several machines share PostgreSQL).
 */
import Database from "better-sqlite3";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, fchmodSync, fstatSync, ftruncateSync, lstatSync, openSync, readdirSync, readSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { SqlValue } from "./group-commit.js";
import { PRIVATE_FILE_MODE } from "./private-files.js";

/** A file is turned over once it holds this much (~500 records). */
export const ROTATE_BYTES = 64 * 1024;
/** A longer line is not a record (they are ~130 bytes): skipped at replay without being held. */
const MAX_LINE = 64 * 1024;

export interface IntentJournal {
  /**
   * Appends one record: written at the end of this event-loop turn with every record
   * appended in it, in one write(2). `written` runs as soon as its line is in the file
   * whole (the caller queues the row there, before the journal may turn over); the
   * promise resolves then, or rejects if the line was not written (the request is refused).
   */
  append(args: readonly SqlValue[], written: () => void): Promise<void>;
  /**
   * The row of this record failed to commit: its record is written, now, to a third file
   * that is never emptied during the run, so the next start replays it.
   */
  keep(args: readonly SqlValue[]): void;
  /** Refuses the records not written yet (the store is closing: their rows could miss its last commit). */
  refusePending(): void;
  /** Closes the files; removes them if `committed` (the store's last commit covered every row) and no row failed. */
  close(committed: boolean): void;
  /** This process's two files. */
  readonly paths: readonly [string, string];
}

const SAFE = /^[A-Za-z0-9_-]{1,64}$/;
const tagOf = (nodeId: string): string => (SAFE.test(nodeId) ? nodeId : createHash("sha256").update(nodeId).digest("hex").slice(0, 32));
const FILE = /^\.inflight-([A-Za-z0-9_-]+)\.(\d+)-([0-9a-f]+)\.(a|b|kept)$/;

/** The journal files beside a database, with the process that owns each. */
export function listJournals(dbPath: string): Array<{ path: string; pid: number; stem: string }> {
  const dir = dirname(dbPath);
  const base = basename(dbPath);
  if (!existsSync(dir)) return [];
  const out: Array<{ path: string; pid: number; stem: string }> = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(base)) continue;
    const m = FILE.exec(name.slice(base.length));
    if (m) out.push({ path: join(dir, name), pid: Number(m[2]), stem: join(dir, name).replace(/\.(a|b|kept)$/, "") });
  }
  return out;
}

/** Journals open in this process (by stem): a closed one of ours is as dead as another process's. */
const openHere = new Set<string>();

const lockOf = (stem: string): string => `${stem}.lock`;

/**
 * Whether the owner of a lock file still holds it: true, false, or null when it cannot be
 * asked (no lock file, not a regular file, not a database).
 */
function lockHeld(path: string): boolean | null {
  if (!isFile(path)) return null;
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true, timeout: 0 });
  } catch {
    return null;
  }
  try {
    // The same lock the owner keeps (RESERVED): two probes at once cannot both be refused
    // by each other, as two BEGIN EXCLUSIVE could (each holding the SHARED the other needs
    // gone), so one of them always sees a dead owner. Nothing is written: no -journal file.
    db.pragma("journal_mode = MEMORY");
    db.exec("BEGIN IMMEDIATE");
    db.exec("ROLLBACK");
    return false;
  } catch (err) {
    return (err as { code?: unknown }).code === "SQLITE_BUSY" ? true : null;
  } finally {
    db.close();
  }
}

/** Takes the lock that says this process's journal is open; held until the returned database is closed (or the process dies). */
function holdLock(path: string): Database.Database {
  const fd = openSync(path, "wx", PRIVATE_FILE_MODE);
  let db: Database.Database | null = null;
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
    closeSync(fd);
    db = new Database(path, { fileMustExist: true });
    // A write transaction left open for the run: its RESERVED lock refuses every probe's
    // BEGIN IMMEDIATE (SQLITE_BUSY) until this process closes it or dies. Nothing is
    // written, and with the journal in memory no -journal file appears beside it.
    db.pragma("journal_mode = MEMORY");
    db.exec("BEGIN IMMEDIATE");
    return db;
  } catch (err) {
    db?.close();
    removeIfFile(path); // ours, never locked: left, it would only be a dead journal's lock to probe
    throw err;
  }
}

function alive(pid: number, stem: string): boolean {
  if (openHere.has(stem)) return true;
  const held = lockHeld(lockOf(stem));
  if (held !== null) return held;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Journals of processes that are gone: what a replay may read and then remove. */
export function deadJournals(dbPath: string): string[] {
  return listJournals(dbPath)
    .filter((j) => !alive(j.pid, j.stem) && isFile(j.path))
    .map((j) => j.path);
}

/** A regular file (not a link, not a dangling name): anything else beside the database is ignored. */
function isFile(p: string): boolean {
  try {
    return lstatSync(p).isFile();
  } catch {
    return false;
  }
}

function isRecord(v: unknown): v is SqlValue[] {
  return Array.isArray(v) && v.every((x) => x === null || typeof x === "string" || typeof x === "number");
}

/**
 * The records in these files, read in chunks (a file may be large). A line that does not
 * parse (a record whose write never completed) or is too long to be one is skipped: its
 * request was refused.
 */
export function readJournal(paths: readonly string[]): SqlValue[][] {
  const out: SqlValue[][] = [];
  const chunk = Buffer.allocUnsafe(1 << 20);
  for (const p of paths) {
    if (!isFile(p)) continue;
    let fd: number;
    try {
      fd = openSync(p, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // removed by another start
      throw err;
    }
    try {
      // The current line's pieces; null while skipping one longer than MAX_LINE.
      let parts: Buffer[] | null = [];
      let partBytes = 0;
      const take = (piece: Buffer): void => {
        if (parts === null) return;
        partBytes += piece.length;
        if (partBytes > MAX_LINE) parts = null;
        else parts.push(Buffer.from(piece));
      };
      const endLine = (): void => {
        if (parts !== null && partBytes > 0) {
          try {
            const v: unknown = JSON.parse(Buffer.concat(parts).toString("utf8"));
            if (isRecord(v)) out.push(v);
          } catch {
            // torn or foreign: skipped
          }
        }
        parts = [];
        partBytes = 0;
      };
      for (let n = readSync(fd, chunk, 0, chunk.length, null); n > 0; n = readSync(fd, chunk, 0, chunk.length, null)) {
        const data = chunk.subarray(0, n);
        let start = 0;
        for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, start)) {
          take(data.subarray(start, i));
          endLine();
          start = i + 1;
        }
        take(data.subarray(start));
      }
      endLine();
    } finally {
      closeSync(fd);
    }
  }
  return out;
}

/** Removes replayed journals (after their records were committed), and their lock files. */
export function removeJournals(paths: readonly string[]): void {
  for (const p of paths) {
    try {
      unlinkSync(p);
    } catch (err) {
      // Another start replayed and removed it first (INSERT OR IGNORE: harmless twice).
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  // A lock file is only a sign of life: removing it is best-effort, and only a regular
  // file (a directory planted under its name must not stop the node from starting).
  for (const lock of new Set(paths.map((p) => lockOf(p.replace(/\.(a|b|kept)$/, ""))))) removeIfFile(lock);
}

function removeIfFile(path: string): void {
  if (!isFile(path)) return;
  try {
    unlinkSync(path);
  } catch {
    // Gone already, or not ours to remove.
  }
}

/**
 * Opens this process's journal for appends. `flush` must resolve once every write queued
 * before the call is committed (the store's group.flush()); `onError` hears of a file that
 * could not be emptied or removed (its records stay for a later replay: harmless).
 */
export function openIntentJournal(dbPath: string, nodeId: string, flush: () => Promise<void>, onError: (err: unknown) => void): IntentJournal {
  const stem = `${dbPath}.inflight-${tagOf(nodeId)}.${process.pid}-${randomBytes(6).toString("hex")}`;
  const paths: [string, string] = [`${stem}.a`, `${stem}.b`];
  // The lock before the files: a start never sees this journal without it held.
  const held = holdLock(lockOf(stem));
  openHere.add(stem);
  const fds: number[] = [];
  try {
    for (const p of paths) {
      const fd = openSync(p, "ax", PRIVATE_FILE_MODE); // O_APPEND: after a truncate, writes go to the new end
      fds.push(fd);
      fchmodSync(fd, PRIVATE_FILE_MODE); // whatever the umask did
    }
  } catch (err) {
    for (const fd of fds) closeSync(fd);
    // Files made by this failed open hold no record: removed, not left for a replay.
    for (const p of paths.slice(0, fds.length)) removeIfFile(p);
    held.close();
    removeIfFile(lockOf(stem));
    openHere.delete(stem);
    throw err;
  }
  let current = 0;
  let size = 0;
  let turning = false;
  let closed = false;
  // A write that could not be undone (the file may hold a torn line): no more records.
  let broken: Error | null = null;
  let kept = 0;
  // A failed row whose record could not be kept: no file may be emptied for the rest of the run.
  let holdAll = false;
  let pending: Array<{ line: string; written: () => void; resolve: () => void; reject: (err: Error) => void }> = [];
  let writing: ReturnType<typeof setImmediate> | null = null;

  const fd = (): number => fds[current] as number;

  /** Writes bytes whole or not at all: a short write is cut back off the file. */
  const writeWhole = (bytes: Buffer): void => {
    if (broken) throw broken;
    const before = size;
    let n = 0;
    try {
      n = writeSync(fd(), bytes);
      if (n === bytes.length) {
        size += n;
        return;
      }
    } catch (err) {
      // Nothing was written, unless the call failed part-way: cut back to be sure.
      try {
        ftruncateSync(fd(), before);
      } catch {
        broken = err instanceof Error ? err : new Error("journal write failed");
      }
      throw err;
    }
    // Short (a full disk): remove the partial line, or the next record would join it.
    try {
      ftruncateSync(fd(), before);
    } catch (err) {
      broken = err instanceof Error ? err : new Error("journal truncate failed");
    }
    throw new Error(`journal write was short (${n} of ${bytes.length} bytes)`);
  };

  const writePending = (): void => {
    if (writing) clearImmediate(writing);
    writing = null;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    try {
      writeWhole(Buffer.from(batch.map((p) => p.line).join(""), "utf8"));
    } catch (err) {
      const e = err instanceof Error ? err : new Error("journal write failed");
      for (const p of batch) p.reject(e);
      return;
    }
    // Rows queued before the journal may turn over: the flush it starts carries them.
    for (const p of batch) {
      try {
        p.written();
      } catch (err) {
        onError(err);
      }
      p.resolve();
    }
    if (size >= ROTATE_BYTES) turnOver();
  };

  // Empties file `i` once a flush has committed every write queued so far (its rows among them).
  const emptyAfterFlush = (i: number): void => {
    turning = true;
    flush().then(
      () => {
        turning = false;
        if (closed || holdAll) return;
        try {
          ftruncateSync(fds[i] as number, 0);
        } catch (err) {
          onError(err);
        }
      },
      (err: unknown) => {
        turning = false;
        onError(err); // the file stays full: the next turn-over asks again
      },
    );
  };

  const turnOver = (): void => {
    if (turning) return;
    const other = 1 - current;
    // The other file still holds records (a flush that failed): ask again, and keep on with this one.
    if (fstatSync(fds[other] as number).size > 0) return emptyAfterFlush(other);
    const full = current;
    current = other;
    size = 0;
    emptyAfterFlush(full);
  };

  return {
    paths,
    append(args, written) {
      if (closed) return Promise.reject(new Error("the journal is closed"));
      if (broken) return Promise.reject(broken);
      return new Promise<void>((resolve, reject) => {
        pending.push({ line: `${JSON.stringify(args)}\n`, written, resolve, reject });
        writing ??= setImmediate(writePending);
      });
    },
    keep(args) {
      kept++;
      try {
        // Its own file: a failed write here must not touch the current file's size or lines.
        const k = openSync(`${stem}.kept`, "a", PRIVATE_FILE_MODE);
        try {
          fchmodSync(k, PRIVATE_FILE_MODE);
          writeSync(k, `\n${JSON.stringify(args)}\n`);
        } finally {
          closeSync(k);
        }
      } catch (err) {
        holdAll = true; // its record is still in one of the turning files: keep them all
        onError(err);
      }
    },
    refusePending() {
      if (writing) clearImmediate(writing);
      writing = null;
      for (const p of pending) p.reject(new Error("the store is closing"));
      pending = [];
    },
    close(committed) {
      if (closed) return;
      closed = true;
      // Records not written yet: refused (their rows were never queued).
      if (writing) clearImmediate(writing);
      for (const p of pending) p.reject(new Error("the journal is closed"));
      pending = [];
      for (const f of fds) closeSync(f);
      held.close();
      openHere.delete(stem);
      if (!committed || kept > 0) return;
      for (const p of [...paths, lockOf(stem)]) {
        try {
          unlinkSync(p);
        } catch (err) {
          onError(err); // left for a later replay: harmless
        }
      }
    },
  };
}
