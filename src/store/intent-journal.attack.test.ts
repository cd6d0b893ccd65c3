/**
 * Attack review 2 of the in_flight journal (./intent-journal.ts), each a property that
 * failed before its fix: odd names beside the database, starts racing over dead journals,
 * a close racing a start, a failed row whose .kept write fails too; and review 3, of
 * liveness by lock: a probe racing a probe, a lock name taken by a directory.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { listJournals, readJournal } from "./intent-journal.js";
import { openSqliteStore } from "./sqlite.js";

const tmpDb = (): string => join(mkdtempSync(join(tmpdir(), "journal-atk-")), "cloister.db");
const SQLITE = new URL("./sqlite.ts", import.meta.url).pathname;
const journalsOf = (path: string): string[] => listJournals(path).map((j) => j.path);
const start = (id: string, i = 0) => ({ requestId: id, keyId: null, model: "m", route: "/v1/completions", startedAt: i });

function committed(path: string): string[] {
  const raw = new Database(path, { readonly: true });
  try {
    return (raw.prepare("SELECT request_id FROM usage ORDER BY request_id").all() as Array<{ request_id: string }>).map((r) => r.request_id);
  } finally {
    raw.close();
  }
}

describe("in_flight journal, attack review 2", () => {
  it("an odd entry beside the database (a dangling link named like a journal) does not stop the node from starting", async () => {
    const path = tmpDb();
    symlinkSync(join(path, "..", "nowhere"), `${path}.inflight-n1.999999-abcdef.a`);
    const s = openSqliteStore({ path, journal: true, nodeId: "n1" });
    await s.close();
  });

  it("two nodes starting together after a crash (many dead journals) both open", async () => {
    const path = tmpDb();
    // A crashed run's files: many small dead journals (pid 999999 is not alive).
    openSqliteStore({ path }).close();
    for (let i = 0; i < 4000; i++) writeFileSync(`${path}.inflight-n1.999999-${i.toString(16).padStart(6, "0")}.a`, `${JSON.stringify([`r${i}`, null, "m", "/v1/completions", i, "n1"])}\n`);
    const script = (node: string) => `
      import { openSqliteStore } from ${JSON.stringify(SQLITE)};
      try { const s = openSqliteStore({ path: ${JSON.stringify(path)}, journal: true, nodeId: ${JSON.stringify(node)} }); await s.close(); console.log("ok"); }
      catch (e) { console.log("FAIL " + e.message + " / " + (e.cause && e.cause.message)); }
    `;
    const run = (node: string) =>
      new Promise<string>((resolve) => execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script(node)], { timeout: 60_000 }, (_e, stdout) => resolve(stdout.trim())));
    const results = await Promise.all([run("n1"), run("n2"), run("n3")]);
    expect(results).toEqual(["ok", "ok", "ok"]);
  }, 90_000);

  it("a request whose startUsage resolved while the store was closing has its record on disk at every moment", async () => {
    const path = tmpDb();
    const s = openSqliteStore({ path, writer: "worker", journal: true, nodeId: "n1", onWriteError: () => {} });
    const started = s.startUsage(start("racing"));
    const closed = s.close();
    const outcome = await started.then(
      () => "answered",
      () => "refused",
    );
    await closed;
    // Right after close: if it was answered, its record must be in the db or in a journal file.
    const onDisk = committed(path).includes("racing") || readJournal(journalsOf(path)).some((r) => r[0] === "racing");
    expect({ outcome, onDisk: outcome === "refused" || onDisk }).toEqual({ outcome, onDisk: true });
  });

  it("a failed row whose .kept write also fails keeps its record past the turn-over", async () => {
    const path = tmpDb();
    const errors: string[] = [];
    const s = openSqliteStore({ path, writer: "worker", journal: true, nodeId: "n1", onWriteError: (e) => errors.push(String((e.cause as Error)?.message)) });
    const stem = journalsOf(path)[0]?.replace(/\.a$/, "") ?? "";
    // The .kept file cannot be written (a directory stands in for EMFILE / ENOSPC / EIO).
    mkdirSync(`${stem}.kept`);
    const raw = new Database(path);
    raw.exec("CREATE TRIGGER boom BEFORE INSERT ON usage WHEN NEW.request_id = 'doomed' BEGIN SELECT RAISE(ABORT, 'transient'); END");
    await s.startUsage(start("doomed"));
    await s.listUsage();
    raw.exec("DROP TRIGGER boom");
    raw.close();
    // Enough records to turn both files over.
    for (let i = 0; i < 2000; i++) {
      await s.startUsage(start(`r${i}`, i));
      if (i % 100 === 0) await s.listUsage();
    }
    await s.listUsage();
    await new Promise((r) => setTimeout(r, 50));
    const still = readJournal(listJournals(path).filter((j) => !j.path.endsWith(".kept")).map((j) => j.path)).some((r) => r[0] === "doomed");
    expect({ errors: errors.length >= 2, still }).toEqual({ errors: true, still: true });
    await s.close();
  }, 60_000);
});

/** A second process opens a serving store, starts one request and SIGKILLs itself: a dead journal with its lock file. */
function killedNode(path: string): Promise<void> {
  const script = `
    import { openSqliteStore } from ${JSON.stringify(SQLITE)};
    const s = openSqliteStore({ path: ${JSON.stringify(path)}, journal: true, nodeId: "n1" });
    await s.startUsage({ requestId: "dead", keyId: null, model: "m", route: "/v1/completions", startedAt: 1 });
    process.kill(process.pid, "SIGKILL");
  `;
  return new Promise((resolve) => execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 30_000 }, () => resolve()));
}

describe("in_flight journal, attack review 3 (liveness by lock)", () => {
  it("a dead node's journal is replayed while another start is probing its lock (a probe never makes a dead owner look alive)", async () => {
    const path = tmpDb();
    await killedNode(path);
    const [dead] = listJournals(path);
    expect(dead).toBeDefined();
    // Another start's probe, caught mid-way: it holds the lock file's SHARED lock. Two
    // probes that each needed the other's gone (BEGIN EXCLUSIVE) both read "alive".
    const probe = new Database(`${dead!.stem}.lock`, { fileMustExist: true });
    probe.exec("BEGIN");
    probe.prepare("SELECT count(*) FROM sqlite_master").get();
    try {
      const s = openSqliteStore({ path, journal: true, nodeId: "n1" });
      expect(s.interruptedAtOpen).toBe(1);
      await s.close();
    } finally {
      probe.close();
    }
    expect(committed(path)).toEqual(["dead"]);
  }, 40_000);

  it("the owner's lock leaves no file beside it but the lock itself (no -journal), refuses a probe while the owner runs, and goes with a clean close", async () => {
    const path = tmpDb();
    const s = openSqliteStore({ path, journal: true, nodeId: "n1" });
    const [mine] = listJournals(path);
    const names = readdirSync(join(path, "..")).filter((n) => n.includes(".lock"));
    expect(names).toEqual([`${mine!.stem.split("/").pop()}.lock`]);
    const probe = new Database(`${mine!.stem}.lock`, { fileMustExist: true, timeout: 0 });
    expect(() => probe.exec("BEGIN IMMEDIATE")).toThrow(/locked|busy/i);
    probe.close();
    await s.close();
    expect(existsSync(`${mine!.stem}.lock`)).toBe(false);
  });

  it("a directory standing where a dead journal's lock file would be does not stop the node from starting", async () => {
    const path = tmpDb();
    openSqliteStore({ path }).close();
    const stem = `${path}.inflight-n1.999999-0a0b0c`;
    writeFileSync(`${stem}.a`, `${JSON.stringify(["planted", null, "m", "/v1/completions", 1, "n1"])}\n`);
    mkdirSync(`${stem}.lock`);
    const s = openSqliteStore({ path, journal: true, nodeId: "n1" });
    expect(s.interruptedAtOpen).toBe(1);
    await s.close();
    expect({ replayed: existsSync(`${stem}.a`), dir: statSync(`${stem}.lock`).isDirectory() }).toEqual({ replayed: false, dir: true });
  });
});
