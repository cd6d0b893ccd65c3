/**
 * The data dir and the store's files are private to the node's user: the store holds API
 * key hashes, usage and signature texts (sha256 of each request and response, which
 * confirm a guessed prompt), so no other local user may read them. Dir 0700, files 0600.
 *
 * SQLite creates `-wal`, `-shm` and journal files with the permissions of the database
 * file (os_unix.c findCreateFileMode), so the database file is created 0600 before
 * SQLite opens it, and files left by an older, laxer version are tightened here.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` 0700, or tightens an existing one this user owns (never a shared dir such as /tmp). */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const st = statSync(dir);
  const mine = typeof process.getuid !== "function" || st.uid === process.getuid();
  // A sticky world-writable dir (/tmp) is shared by design: refuse to change it, don't lock others out.
  const sticky = (st.mode & 0o1000) !== 0;
  if (mine && !sticky && (st.mode & 0o077) !== 0) chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Creates `path` 0600 if missing (without truncating), and tightens it and its SQLite side files. */
export function ensurePrivateDbFiles(path: string): void {
  closeSync(openSync(path, "a", PRIVATE_FILE_MODE));
  for (const p of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    if (existsSync(p) && (statSync(p).mode & 0o077) !== 0) chmodSync(p, PRIVATE_FILE_MODE);
  }
}
