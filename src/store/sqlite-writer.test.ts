import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { Write } from "./group-commit.js";
import { MIGRATIONS } from "./migrations.js";
import { SQLITE_SQL } from "./sqlite-sql.js";
import { createWorkerGroupCommit } from "./sqlite-writer.js";
import { openSqliteStore } from "./sqlite.js";

const opened: Database.Database[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) if (db.open) db.close();
});

function freshDb(): { path: string; db: Database.Database } {
  const path = join(mkdtempSync(join(tmpdir(), "writer-")), "cloister.db");
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  for (const m of MIGRATIONS) db.exec(m);
  opened.push(db);
  return { path, db };
}

function statements(db: Database.Database) {
  return {
    startUsage: db.prepare(SQLITE_SQL.startUsage),
    progressUsage: db.prepare(SQLITE_SQL.progressUsage),
    finishUsage: db.prepare(SQLITE_SQL.finishUsage),
    putSig: db.prepare(SQLITE_SQL.putSig),
    putAlias: db.prepare(SQLITE_SQL.putAlias),
  };
}

const start = (id: string): Write => ({ stmt: "startUsage", args: [id, null, "m", "/v1/chat/completions", 1, "local"] });
const rows = (path: string): unknown[] => {
  const raw = new Database(path, { readonly: true });
  try {
    return raw.prepare("SELECT request_id, status FROM usage ORDER BY request_id").all();
  } finally {
    raw.close();
  }
};

describe("the store's writer thread", () => {
  it("commits on another thread: a durable write is in the file, seen by another connection, when it resolves", async () => {
    const { path, db } = freshDb();
    const g = createWorkerGroupCommit(path, db, statements(db), () => undefined);
    expect(g.thread.threadId).not.toBe(threadId);
    await g.durable(start("a"));
    expect(rows(path)).toEqual([{ request_id: "a", status: "in_flight" }]);
    await g.close();
  });

  it("runs a write's follow-up only when its statement changed a row (an alias only for a row its key owns)", async () => {
    const { path, db } = freshDb();
    const g = createWorkerGroupCommit(path, db, statements(db), () => undefined);
    const sig = (keyId: string, alias: string): Write => ({ stmt: "putSig", args: ["s1", "ecdsa", "t", "sig", "0xa", 1, keyId], then: { stmt: "putAlias", args: [alias, "ecdsa", "s1", keyId] } });
    g.defer(sig("k1", "mine"));
    g.defer(sig("k2", "theirs")); // another key: the signature row is not changed, so no alias
    await g.flush();
    expect(db.prepare("SELECT alias, key_id FROM signature_aliases").all()).toEqual([{ alias: "mine", key_id: "k1" }]);
    await g.close();
  });

  it("reports a failed write with SQLite's code and commits the others of its batch", async () => {
    const { path, db } = freshDb();
    const errors: unknown[] = [];
    const g = createWorkerGroupCommit(path, db, statements(db), (e) => errors.push(e));
    await g.durable(start("a"));
    const again = g.durable(start("a")); // the same primary key: this one fails
    const other = g.durable(start("b"));
    await expect(again).rejects.toMatchObject({ name: "WriterThreadError", sqliteCode: "SQLITE_CONSTRAINT_PRIMARYKEY" });
    await other;
    expect(rows(path)).toEqual([
      { request_id: "a", status: "in_flight" },
      { request_id: "b", status: "in_flight" },
    ]);
    await g.close();
  });

  it("when the thread dies, fails the writes it held and commits later ones on the main connection", async () => {
    const { path, db } = freshDb();
    const g = createWorkerGroupCommit(path, db, statements(db), () => undefined);
    await g.durable(start("a"));
    await g.thread.terminate();
    await g.durable(start("b"));
    g.defer({ stmt: "finishUsage", args: [1, 2, "ok", 3, "b"] });
    await g.flush();
    expect(rows(path)).toEqual([
      { request_id: "a", status: "in_flight" },
      { request_id: "b", status: "ok" },
    ]);
    await g.close();
  });

  it("commits what is queued on close, and refuses writes after it", async () => {
    const { path, db } = freshDb();
    const g = createWorkerGroupCommit(path, db, statements(db), () => undefined);
    g.defer(start("z"));
    await g.close();
    expect(rows(path)).toEqual([{ request_id: "z", status: "in_flight" }]);
    await expect(g.durable(start("y"))).rejects.toThrow(/closed/);
    await g.close(); // twice is fine
  });

  it("refuses a write made once close() has begun, instead of queueing it and losing it", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "writer-")), "cloister.db");
    const s = openSqliteStore({ path, writer: "worker" });
    const closing = s.close();
    await expect(s.putSignature({ id: "late", algo: "ecdsa", text: "t", signature: "s", address: "0xa" })).rejects.toMatchObject({ code: "STORE_WRITE_FAILED" });
    await expect(s.startUsage({ requestId: "late", keyId: null, model: "m", route: "/v1/completions", startedAt: 1 })).rejects.toMatchObject({ code: "STORE_WRITE_FAILED" });
    await closing;
  });

  it.each([false, true])("neither keeps a process alive when idle nor lets it exit before a commit is answered (a real second process; journal %s)", async (journal) => {
    const path = join(mkdtempSync(join(tmpdir(), "writer-")), "cloister.db");
    // Opens a serving store, writes, and never closes it: the process must end by itself.
    const script = `
      import { openSqliteStore } from ${JSON.stringify(new URL("./sqlite.ts", import.meta.url).pathname)};
      const s = openSqliteStore({ path: ${JSON.stringify(path)}, writer: "worker", journal: ${journal} });
      await s.startUsage({ requestId: "a", keyId: null, model: "m", route: "/v1/completions", startedAt: 1 });
      await s.finishUsage("a", { promptTokens: 1, completionTokens: 2, status: "ok", finishedAt: 2 });
      await s.startUsage({ requestId: "b", keyId: null, model: "m", route: "/v1/completions", startedAt: 3 });
      console.log("written");
    `;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 30_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    expect(out.trim()).toBe("written");
    expect(rows(path)).toEqual([
      { request_id: "a", status: "ok" },
      { request_id: "b", status: "in_flight" },
    ]);
  }, 40_000);

  it("keeps a request's finish after its start when the thread dies in between (the queue goes to the main connection first)", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "writer-")), "cloister.db");
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    for (const m of MIGRATIONS) db.exec(m);
    const stmts = {
      startUsage: db.prepare(SQLITE_SQL.startUsage),
      progressUsage: db.prepare(SQLITE_SQL.progressUsage),
      finishUsage: db.prepare(SQLITE_SQL.finishUsage),
      putSig: db.prepare(SQLITE_SQL.putSig),
      putAlias: db.prepare(SQLITE_SQL.putAlias),
    };
    const g = createWorkerGroupCommit(path, db, stmts, () => undefined);
    await g.flush();
    const exited = new Promise((r) => g.thread.once("exit", r));
    void g.thread.terminate(); // the thread dies (OOM, a native fault)
    // With the in_flight journal a start is a deferred write: it can still be queued here.
    g.defer({ stmt: "startUsage", args: ["a", null, "m", "/v1/chat/completions", 1, "n1"] });
    await exited;
    // The request then finishes: its finish goes to the main connection.
    g.defer({ stmt: "finishUsage", args: [5, 7, "ok", 2, "a"] });
    await new Promise((r) => setTimeout(r, 50));
    await g.flush();
    const row = db.prepare("SELECT status, completion_tokens FROM usage WHERE request_id = 'a'").get();
    await g.close();
    db.close();
    expect(row).toEqual({ status: "ok", completion_tokens: 7 });
  });
});
