/**
 * The in_flight journal (./intent-journal.ts): a serving node's in_flight rows survive a
 * kill because their record was appended before startUsage resolved, not because each
 * was committed. The kills are real: a second process opens the store, starts requests
 * and SIGKILLs itself with the rows still queued.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { journalPaths, openIntentJournal, readJournal, ROTATE_BYTES } from "./intent-journal.js";
import { openSqliteStore } from "./sqlite.js";

const tmpDb = (): string => join(mkdtempSync(join(tmpdir(), "journal-")), "cloister.db");
const SQLITE = new URL("./sqlite.ts", import.meta.url).pathname;

function committed(path: string): unknown[] {
  if (!existsSync(path)) return [];
  const raw = new Database(path, { readonly: true });
  try {
    return raw.prepare("SELECT request_id, status, model, route, key_id FROM usage ORDER BY request_id").all();
  } finally {
    raw.close();
  }
}

/** Runs `body` in a second process that opens a serving store (worker + journal), then SIGKILLs itself. */
function runAndKill(path: string, body: string): Promise<{ signal: string | null; stdout: string }> {
  const script = `
    import { openSqliteStore } from ${JSON.stringify(SQLITE)};
    const s = openSqliteStore({ path: ${JSON.stringify(path)}, writer: "worker", journal: true, nodeId: "n1" });
    ${body}
    process.kill(process.pid, "SIGKILL");
  `;
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 30_000 }, (err, stdout) =>
      resolve({ signal: (err as { signal?: string } | null)?.signal ?? null, stdout }),
    );
  });
}

describe("in_flight journal", () => {
  it("keeps the in_flight row of a process killed before the row was committed: replayed as interrupted at the next open", async () => {
    const path = tmpDb();
    const killed = await runAndKill(
      path,
      `await s.startUsage({ requestId: "a", keyId: "k1", model: "m", route: "/v1/chat/completions", startedAt: 1 });
       await s.startUsage({ requestId: "b", keyId: null, model: "m2", route: "/v1/completions", startedAt: 2 });
       console.log("started");`,
    );
    expect(killed).toMatchObject({ signal: "SIGKILL" });
    expect(killed.stdout.trim()).toBe("started");
    // Not committed (the rows were still queued): the journal is what kept them.
    expect(committed(path)).toEqual([]);
    const [a, b] = journalPaths(path, "n1");
    expect(readJournal([a, b])).toHaveLength(2);
    const s = openSqliteStore({ path, writer: "worker", journal: true, nodeId: "n1" });
    expect(s.interruptedAtOpen).toBe(2);
    expect(committed(path)).toEqual([
      { request_id: "a", status: "interrupted", model: "m", route: "/v1/chat/completions", key_id: "k1" },
      { request_id: "b", status: "interrupted", model: "m2", route: "/v1/completions", key_id: null },
    ]);
    // Replayed and committed: the files are empty again.
    expect([statSync(a).size, statSync(b).size]).toEqual([0, 0]);
    await s.close();
  }, 40_000);

  it("leaves a row that committed and finished before the kill as it was (the replay never turns it back)", async () => {
    const path = tmpDb();
    await runAndKill(
      path,
      `await s.startUsage({ requestId: "a", keyId: null, model: "m", route: "/v1/completions", startedAt: 1 });
       await s.finishUsage("a", { promptTokens: 2, completionTokens: 3, status: "ok", finishedAt: 2 });
       await s.listUsage(); // commits what is queued
       await s.startUsage({ requestId: "b", keyId: null, model: "m", route: "/v1/completions", startedAt: 3 });`,
    );
    expect(committed(path)).toEqual([{ request_id: "a", status: "ok", model: "m", route: "/v1/completions", key_id: null }]);
    const s = openSqliteStore({ path, writer: "worker", journal: true, nodeId: "n1" });
    expect((await s.listUsage()).map((r) => [r.requestId, r.status, r.completionTokens])).toEqual([
      ["a", "ok", 3],
      ["b", "interrupted", 0],
    ]);
    await s.close();
  }, 40_000);

  it("is replayed only by its own node, and a tool's open (recover: false) leaves it alone", async () => {
    const path = tmpDb();
    await runAndKill(path, `await s.startUsage({ requestId: "a", keyId: null, model: "m", route: "/v1/completions", startedAt: 1 });`);
    const tool = openSqliteStore({ path, nodeId: "n1", recover: false });
    await tool.close();
    const other = openSqliteStore({ path, writer: "worker", journal: true, nodeId: "n2" });
    expect(other.interruptedAtOpen).toBe(0);
    await other.close();
    expect(committed(path)).toEqual([]);
    const own = openSqliteStore({ path, journal: true, nodeId: "n1" });
    expect(own.interruptedAtOpen).toBe(1);
    await own.close();
  }, 60_000);

  it("skips a torn or foreign line and replays the rest", () => {
    const path = tmpDb();
    const [a, b] = journalPaths(path, "n1");
    writeFileSync(a, `${JSON.stringify(["x", null, "m", "/v1/completions", 1, "n1"])}\n{"torn":`);
    writeFileSync(b, `not json\n${JSON.stringify(["y", null, "m", "/v1/completions", 2, "n1"])}\n${JSON.stringify([{ no: 1 }])}\n`);
    expect(readJournal([a, b]).map((r) => r[0])).toEqual(["x", "y"]);
    const s = openSqliteStore({ path, journal: true, nodeId: "n1" });
    expect(s.interruptedAtOpen).toBe(2);
    void s.close();
  });

  it("empties a full file once a flush committed every record in it, and keeps it when a write failed meanwhile", async () => {
    const dir = mkdtempSync(join(tmpdir(), "journal-"));
    const paths: [string, string] = [join(dir, "a"), join(dir, "b")];
    const flushes: Array<() => void> = [];
    const j = openIntentJournal(paths, () => new Promise<void>((r) => flushes.push(r)), (e) => { throw e; });
    const record = ["r".repeat(100), null, "m", "/v1/completions", 1, "n1"];
    const perRecord = JSON.stringify(record).length + 1;
    const fill = Math.ceil(ROTATE_BYTES / perRecord);
    const append = (k: number): Promise<unknown> => Promise.all(Array.from({ length: k }, () => j.append(record)));
    // One turn's records go out in one write: a is full after it, and turned over.
    await append(fill);
    expect(statSync(paths[0]).size).toBe(fill * perRecord);
    await append(1);
    expect(statSync(paths[1]).size).toBe(perRecord);
    expect(flushes).toHaveLength(1);
    flushes[0]?.();
    await new Promise((r) => setImmediate(r));
    expect(statSync(paths[0]).size).toBe(0);
    // b fills; a write fails before its flush answers: b is kept for the replay.
    await append(fill);
    expect(flushes).toHaveLength(2);
    j.writeFailed();
    flushes[1]?.();
    await new Promise((r) => setImmediate(r));
    expect(statSync(paths[1]).size).toBeGreaterThanOrEqual(ROTATE_BYTES);
    // …and while b holds records, a is not turned over to again: it grows.
    await append(fill);
    expect(flushes).toHaveLength(2);
    // A record not yet written when the journal closes is refused, never left half-done.
    const late = j.append(record);
    j.close(true);
    await expect(late).rejects.toThrow(/closed/);
    await expect(j.append(record)).rejects.toThrow(/closed/);
    // A failure happened in this run: a clean close keeps both for the replay.
    expect(statSync(paths[1]).size).toBeGreaterThan(0);
  });

  it("is emptied by a clean close, and refuses a record it cannot write whole (a full disk: the request is refused)", async () => {
    const path = tmpDb();
    const s = openSqliteStore({ path, journal: true, nodeId: "n1" });
    await s.startUsage({ requestId: "a", keyId: null, model: "m", route: "/v1/completions", startedAt: 1 });
    const [a] = journalPaths(path, "n1");
    expect(readFileSync(a, "utf8")).toContain('"a"');
    await s.close();
    expect(statSync(a).size).toBe(0);
    expect(committed(path)).toEqual([{ request_id: "a", status: "in_flight", model: "m", route: "/v1/completions", key_id: null }]);
    // A full disk: the record is not written whole, so startUsage rejects and the request is refused.
    const full = tmpDb();
    for (const p of journalPaths(full, "n1")) symlinkSync("/dev/full", p);
    const f = openSqliteStore({ path: full, journal: true, nodeId: "n1" });
    await expect(f.startUsage({ requestId: "b", keyId: null, model: "m", route: "/v1/completions", startedAt: 1 })).rejects.toMatchObject({ code: "STORE_WRITE_FAILED" });
    await f.close();
    expect(committed(full)).toEqual([]);
  });
});
