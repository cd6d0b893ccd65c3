/**
 * The in_flight journal (./intent-journal.ts): a serving node's in_flight rows survive a
 * kill because their record was appended before startUsage resolved, not because each
 * was committed. The kills are real: a second process opens the store, starts requests
 * and SIGKILLs itself with the rows still queued.
 */
import { execFile } from "node:child_process";
import { execFile as execFileCb, execFileSync } from "node:child_process";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { listJournals, openIntentJournal, readJournal, ROTATE_BYTES } from "./intent-journal.js";
import { openSqliteStore } from "./sqlite.js";

const tmpDb = (): string => join(mkdtempSync(join(tmpdir(), "journal-")), "cloister.db");
const SQLITE = new URL("./sqlite.ts", import.meta.url).pathname;
const JOURNAL = new URL("./intent-journal.ts", import.meta.url).pathname;
const journalsOf = (path: string): string[] => listJournals(path).map((j) => j.path);

/** A tmpfs of the test's own without root: a user and mount namespace (what bwrap uses too). */
const USER_MOUNT_NS = ["--user", "--map-root-user", "--mount"];
function canMountTmpfs(): boolean {
  try {
    execFileSync("unshare", [...USER_MOUNT_NS, "sh", "-c", 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d"'], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
// CI must run it: there a missing namespace is a failure, not a skip.
const FULL_DISK = canMountTmpfs() || process.env["CI"] !== undefined;

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

/**
 * A live node in a second process: opens a serving store, runs `body` (its store is `s`),
 * says so, then waits until told to go and SIGKILLs itself. `kill()` resolves once it is gone.
 */
async function liveNode(path: string, body: string): Promise<{ kill: () => Promise<void> }> {
  const go = join(path, "..", "go");
  const script = `
    import { existsSync } from "node:fs";
    import { openSqliteStore } from ${JSON.stringify(SQLITE)};
    const s = openSqliteStore({ path: ${JSON.stringify(path)}, writer: "worker", journal: true, nodeId: "n1", onWriteError: () => {} });
    ${body}
    console.log("answered");
    while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 5));
    process.kill(process.pid, "SIGKILL");
  `;
  const child = execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 60_000 });
  let out = "";
  child.stdout?.on("data", (d: string) => (out += d));
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  while (!out.includes("answered")) await new Promise((r) => setTimeout(r, 10));
  return { kill: () => (writeFileSync(go, ""), exited) };
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
    const left = journalsOf(path);
    expect(left).toHaveLength(2);
    expect(readJournal(left)).toHaveLength(2);
    for (const f of left) expect(statSync(f).mode & 0o777).toBe(0o600);
    const s = openSqliteStore({ path, writer: "worker", journal: true, nodeId: "n1" });
    expect(s.interruptedAtOpen).toBe(2);
    expect(committed(path)).toEqual([
      { request_id: "a", status: "interrupted", model: "m", route: "/v1/chat/completions", key_id: "k1" },
      { request_id: "b", status: "interrupted", model: "m2", route: "/v1/completions", key_id: null },
    ]);
    // Replayed and committed: the dead run's files are gone; only this open's own remain.
    for (const f of left) expect(existsSync(f)).toBe(false);
    expect(listJournals(path).every((j) => j.pid === process.pid)).toBe(true);
    await s.close();
    expect(journalsOf(path)).toEqual([]);
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

  it("leaves a live process's journal alone (a second node on the data dir), and replays it once that process is gone", async () => {
    const path = tmpDb();
    // The live node, a real second process: it answers 5 requests, then waits to be killed.
    const node = await liveNode(path, `for (let i = 0; i < 5; i++) await s.startUsage({ requestId: "live" + i, keyId: null, model: "m", route: "/v1/completions", startedAt: i });`);
    const live = journalsOf(path);
    expect(readJournal(live).map((r) => r[0])).toEqual(["live0", "live1", "live2", "live3", "live4"]);
    // Another start with the same node id (its port was taken, say) opens and closes cleanly: the live files stay whole.
    const second = openSqliteStore({ path, writer: "worker", journal: true, nodeId: "n1" });
    await second.close();
    const tool = openSqliteStore({ path, nodeId: "n1", recover: false });
    await tool.close();
    expect(readJournal(live)).toHaveLength(5);
    await node.kill();
    // Gone now: the next start takes its journal in (whatever its node id: the rows keep theirs).
    const other = openSqliteStore({ path, journal: true, nodeId: "n2" });
    expect(other.interruptedAtOpen).toBe(0);
    expect(listJournals(path).every((j) => j.pid === process.pid)).toBe(true);
    expect((await other.listUsage()).map((r) => [r.requestId, r.status, r.nodeId])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [`live${i}`, "in_flight", "n1"]),
    );
    await other.close();
    const own = openSqliteStore({ path, journal: true, nodeId: "n1" });
    expect(own.interruptedAtOpen).toBe(5);
    await own.close();
    expect(journalsOf(path)).toEqual([]);
  }, 60_000);

  it("replays a killed node's journal at once though its pid now belongs to a live process (liveness is the owner's lock, not its pid)", async () => {
    const path = tmpDb();
    const dir = join(path, "..");
    await runAndKill(path, `await s.startUsage({ requestId: "a", keyId: null, model: "m", route: "/v1/completions", startedAt: 1 });`);
    const [dead] = listJournals(path);
    expect(dead).toBeDefined();
    // The kernel gave the dead node's pid to a new process: the files now name a live pid.
    const sleeper = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    try {
      const renamed = (f: string): string => f.replace(`.${dead!.pid}-`, `.${sleeper.pid}-`);
      for (const f of [...journalsOf(path), `${dead!.stem}.lock`]) renameSync(f, renamed(f));
      expect(listJournals(path).map((j) => j.pid)).toEqual([sleeper.pid, sleeper.pid]);
      const s = openSqliteStore({ path, journal: true, nodeId: "n1" });
      expect(s.interruptedAtOpen).toBe(1);
      await s.close();
    } finally {
      sleeper.kill("SIGKILL");
    }
    expect(readdirSync(dir).filter((n) => n.includes(".inflight-"))).toEqual([]);
  }, 40_000);

  it("leaves a live node's journal alone though its pid names no process here (another pid namespace on the same data dir)", async () => {
    const path = tmpDb();
    const node = await liveNode(path, `for (let i = 0; i < 2; i++) await s.startUsage({ requestId: "ns" + i, keyId: null, model: "m", route: "/v1/completions", startedAt: i });`);
    // Seen from another pid namespace, the owner's pid is no process at all.
    const NO_SUCH_PID = 2147483646;
    const [live] = listJournals(path);
    for (const f of [...journalsOf(path), `${live!.stem}.lock`]) renameSync(f, f.replace(`.${live!.pid}-`, `.${NO_SUCH_PID}-`));
    const renamed = journalsOf(path);
    expect(listJournals(path).map((j) => j.pid)).toEqual([NO_SUCH_PID, NO_SUCH_PID]);
    const other = openSqliteStore({ path, journal: true, nodeId: "n2" });
    expect(other.interruptedAtOpen).toBe(0);
    await other.close();
    expect(readJournal(renamed).map((r) => r[0])).toEqual(["ns0", "ns1"]);
    await node.kill();
    const after = openSqliteStore({ path, journal: true, nodeId: "n1" });
    expect(after.interruptedAtOpen).toBe(2);
    await after.close();
    expect(journalsOf(path)).toEqual([]);
  }, 60_000);

  it("keeps the rows of the records that turned the journal over, killed right after (a real second process)", async () => {
    const path = tmpDb();
    // Kills itself at the first turn-over whose full file was emptied while a row it held
    // was not yet committed: that is the window in which a lost row would show.
    const dir = join(path, "..");
    const script = `
      import { readdirSync, statSync } from "node:fs";
      import Database from "better-sqlite3";
      import { openSqliteStore } from ${JSON.stringify(SQLITE)};
      import { ROTATE_BYTES } from ${JSON.stringify(JOURNAL)};
      const s = openSqliteStore({ path: ${JSON.stringify(path)}, writer: "worker", journal: true, nodeId: "n1" });
      await s.listUsage();
      const raw = new Database(${JSON.stringify(path)}, { readonly: true });
      const isCommitted = (id) => raw.prepare("SELECT 1 FROM usage WHERE request_id = ?").get(id) !== undefined;
      const files = () => readdirSync(${JSON.stringify(dir)}).filter((n) => n.includes(".inflight-")).map((n) => ${JSON.stringify(dir)} + "/" + n);
      const size = (f) => statSync(f).size;
      let turns = 0;
      for (let batch = 0; turns < 8 && batch < 5000; batch++) {
        const before = new Map(files().map((f) => [f, size(f)]));
        const ids = Array.from({ length: 20 }, (_, k) => "req-" + String(batch * 20 + k).padStart(7, "0"));
        // One turn: 20 requests answered (their startUsage resolved), one journal write.
        await Promise.all(ids.map((id) => s.startUsage({ requestId: id, keyId: "k1", model: "m", route: "/v1/chat/completions", startedAt: batch })));
        const full = files().find((f) => (before.get(f) ?? 0) < ROTATE_BYTES && size(f) >= ROTATE_BYTES);
        if (!full) continue;
        turns++;
        // This turn's records filled the file: it is emptied once its flush answers. If it
        // is empty while one of these rows is not committed, a kill now would lose that row.
        const t0 = performance.now();
        while (size(full) !== 0 && performance.now() - t0 < 1000) await new Promise((r) => setImmediate(r));
        if (size(full) === 0 && !ids.every(isCommitted)) { console.log(JSON.stringify(ids)); process.kill(process.pid, "SIGKILL"); }
      }
      console.log(JSON.stringify({ turns }));
      process.kill(process.pid, "SIGKILL");
    `;
    const r = await new Promise<{ stdout: string }>((resolve) => execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 60_000 }, (_e, stdout) => resolve({ stdout })));
    // No turn-over emptied a file while one of its rows was uncommitted; had one, the kill
    // came then, and the replay must still have the rows.
    const said = JSON.parse(r.stdout.trim()) as string[] | { turns: number };
    const s = openSqliteStore({ path, journal: true, nodeId: "n1" });
    const ids = new Set((await s.listUsage()).map((u) => u.requestId));
    await s.close();
    expect(said).toEqual({ turns: 8 });
    expect(ids.size).toBeGreaterThan(8 * 400);
  }, 60_000);

  it("skips torn, foreign and overlong lines, and opens over a journal larger than a string can hold", () => {
    const path = tmpDb();
    const a = `${path}.inflight-n1.999999999-aa.a`;
    const b = `${path}.inflight-n1.999999999-aa.b`;
    writeFileSync(a, `${JSON.stringify(["x", null, "m", "/v1/completions", 1, "n1"])}\n{"torn":`);
    writeFileSync(b, `not json\n${"[".repeat(70_000)}\n${JSON.stringify(["y", null, "m", "/v1/completions", 2, "n1"])}\n${JSON.stringify([{ no: 1 }])}\n`);
    expect(readJournal([a, b]).map((r) => r[0])).toEqual(["x", "y"]);
    const big = `${path}.inflight-n1.999999999-bb.a`;
    writeFileSync(big, `${JSON.stringify(["z", null, "m", "/v1/completions", 3, "n1"])}\n`);
    truncateSync(big, 600 * 1024 * 1024); // sparse: zeros to the end, no newline (> the 512 MiB string limit)
    const s = openSqliteStore({ path, journal: true, nodeId: "n1" });
    expect(s.interruptedAtOpen).toBe(3);
    expect(existsSync(big)).toBe(false);
    void s.close();
  }, 60_000);

  it("queues the rows of a turn's records before it asks the flush that empties their file, and empties it only after that flush", async () => {
    const path = tmpDb();
    const flushes: Array<{ queuedBefore: number; answer: () => void }> = [];
    let queued = 0;
    const j = openIntentJournal(path, "n1", () => new Promise<void>((r) => flushes.push({ queuedBefore: queued, answer: r })), (e) => { throw e; });
    const [a, b] = j.paths;
    const record = ["r".repeat(100), null, "m", "/v1/completions", 1, "n1"];
    const perRecord = JSON.stringify(record).length + 1;
    const fill = Math.ceil(ROTATE_BYTES / perRecord);
    const append = (k: number): Promise<unknown> => Promise.all(Array.from({ length: k }, () => j.append(record, () => void queued++)));
    // One turn's records in one write: a is full after it, and turned over.
    await append(fill);
    expect(statSync(a).size).toBe(fill * perRecord);
    expect(flushes).toEqual([{ queuedBefore: fill, answer: expect.any(Function) }]);
    await append(1);
    expect(statSync(b).size).toBe(perRecord);
    expect(statSync(a).size).toBe(fill * perRecord); // not before its flush answers
    flushes[0]?.answer();
    await new Promise((r) => setImmediate(r));
    expect(statSync(a).size).toBe(0);
    // b fills and turns over to a; a fills while b's flush is unanswered: no turn, a grows.
    await append(fill);
    expect(flushes).toHaveLength(2);
    await append(fill);
    await append(fill);
    expect(flushes).toHaveLength(2);
    expect(statSync(a).size).toBe(2 * fill * perRecord);
    expect(statSync(b).size).toBe((fill + 1) * perRecord);
    // A record not yet written when the journal closes is refused and its row never queued.
    const late = j.append(record, () => void queued++);
    const before = queued;
    j.close(true);
    await expect(late).rejects.toThrow(/closed/);
    expect(queued).toBe(before);
    expect(existsSync(a) || existsSync(b)).toBe(false);
  });

  it("asks again to empty a full file whose flush failed, at the next turn-over", async () => {
    const path = tmpDb();
    const answers: Array<(ok: boolean) => void> = [];
    const errors: unknown[] = [];
    const j = openIntentJournal(path, "n1", () => new Promise<void>((res, rej) => answers.push((ok) => (ok ? res() : rej(new Error("flush failed"))))), (e) => errors.push(e));
    const [a, b] = j.paths;
    const record = ["q".repeat(100), null, "m", "/v1/completions", 1, "n1"];
    const fill = Math.ceil(ROTATE_BYTES / (JSON.stringify(record).length + 1));
    const append = (k: number): Promise<unknown> => Promise.all(Array.from({ length: k }, () => j.append(record, () => undefined)));
    await append(fill); // a full: turned over to b, flush 1
    answers[0]?.(false);
    await new Promise((r) => setImmediate(r));
    expect(errors).toHaveLength(1);
    expect(statSync(a).size).toBeGreaterThan(0); // kept: its rows may not be committed
    await append(fill); // b full: a still holds records, so a's flush is asked again
    expect(answers).toHaveLength(2);
    answers[1]?.(true);
    await new Promise((r) => setImmediate(r));
    expect(statSync(a).size).toBe(0);
    expect(statSync(b).size).toBeGreaterThanOrEqual(ROTATE_BYTES);
    j.close(true);
  });

  it("keeps a failed row's record in a file of its own past every turn-over, and the run's files for the replay", async () => {
    const path = tmpDb();
    const errors: string[] = [];
    const s = openSqliteStore({ path, writer: "worker", journal: true, nodeId: "n1", onWriteError: (e) => errors.push(e.code) });
    // One in_flight row fails to commit (a trigger stands in for SQLITE_BUSY or a full disk).
    const raw = new Database(path);
    raw.exec("CREATE TRIGGER boom BEFORE INSERT ON usage WHEN NEW.request_id = 'doomed' BEGIN SELECT RAISE(ABORT, 'transient'); END");
    await s.startUsage({ requestId: "doomed", keyId: null, model: "m", route: "/v1/completions", startedAt: 0 });
    await s.listUsage();
    expect(errors).toEqual(["STORE_WRITE_FAILED"]);
    raw.exec("DROP TRIGGER boom");
    raw.close();
    // Then a healthy run: the turning files stay bounded, the kept record stays.
    for (let i = 0; i < 3000; i++) {
      await s.startUsage({ requestId: `r${i}`, keyId: null, model: "m", route: "/v1/chat/completions", startedAt: i });
      await s.finishUsage(`r${i}`, { promptTokens: 1, completionTokens: 1, status: "ok", finishedAt: i });
      if (i % 100 === 0) await s.listUsage();
    }
    await s.listUsage();
    const files = listJournals(path);
    const kept = files.filter((f) => f.path.endsWith(".kept")).map((f) => f.path);
    expect(readJournal(kept).map((r) => r[0])).toEqual(["doomed"]);
    const turning = files.filter((f) => !f.path.endsWith(".kept")).reduce((n, f) => n + statSync(f.path).size, 0);
    expect(turning).toBeLessThanOrEqual(2 * ROTATE_BYTES + 4096);
    await s.close();
    // A row failed in this run: its files stay, and the next start replays the failed row.
    expect(journalsOf(path).length).toBeGreaterThan(0);
    const again = openSqliteStore({ path, journal: true, nodeId: "n1" });
    expect((await again.listUsage({ status: "interrupted" })).map((r) => r.requestId)).toEqual(["doomed"]);
    await again.close();
    expect(journalsOf(path)).toEqual([]);
  }, 60_000);

  it.skipIf(!FULL_DISK)(`refuses a record it cannot write whole, and cuts the torn part so the next record stays whole (a full disk: a 2 MiB tmpfs in a user and mount namespace${FULL_DISK ? "" : "; skipped: this machine gives no unprivileged user namespaces"})`, async () => {
    // The tmpfs exists only inside the namespace, so both processes run there: the node that
    // fills the disk and is killed, then the start that replays its journal.
    const dir = mkdtempSync(join(tmpdir(), "journal-tmpfs-"));
    const path = join(dir, "cloister.db");
    const filler = join(dir, "filler");
    const killed = `
      import { openSync, writeSync, closeSync, unlinkSync } from "node:fs";
      import { openSqliteStore } from ${JSON.stringify(SQLITE)};
      const s = openSqliteStore({ path: ${JSON.stringify(path)}, writer: "worker", journal: true, nodeId: "n1", onWriteError: () => {} });
      await s.startUsage({ requestId: "first", keyId: null, model: "m", route: "/v1/completions", startedAt: 0 });
      await s.listUsage();
      const fd = openSync(${JSON.stringify(filler)}, "w");
      const big = Buffer.alloc(4096, 120);
      try { for (;;) writeSync(fd, big); } catch {}
      try { for (;;) writeSync(fd, big.subarray(0, 1)); } catch {}
      closeSync(fd);
      let refused = null;
      for (let i = 0; i < 1000 && !refused; i++) {
        try { await s.startUsage({ requestId: "r" + i, keyId: null, model: "m", route: "/v1/completions", startedAt: i }); }
        catch (e) { refused = e.code; }
      }
      unlinkSync(${JSON.stringify(filler)});
      await s.startUsage({ requestId: "answered", keyId: null, model: "m", route: "/v1/completions", startedAt: 9999 });
      console.log(JSON.stringify({ refused }));
      process.kill(process.pid, "SIGKILL");
    `;
    const restarted = `
      import { openSqliteStore } from ${JSON.stringify(SQLITE)};
      const s = openSqliteStore({ path: ${JSON.stringify(path)}, journal: true, nodeId: "n1" });
      const ids = (await s.listUsage()).map((u) => u.requestId);
      await s.close();
      console.log(JSON.stringify({ ids }));
    `;
    const node = `"${process.execPath}" --import tsx --input-type=module -e`;
    const sh = `mount -t tmpfs -o size=2m tmpfs "$1" || exit 1; ${node} "$2"; ${node} "$3"`;
    const r = await new Promise<{ stdout: string }>((resolve) => execFileCb("unshare", [...USER_MOUNT_NS, "sh", "-c", sh, "sh", dir, killed, restarted], { timeout: 60_000 }, (_e, stdout) => resolve({ stdout })));
    const [first, second] = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { refused?: string; ids?: string[] });
    expect(first).toEqual({ refused: "STORE_WRITE_FAILED" });
    expect(second?.ids).toContain("answered");
  }, 90_000);
});
