/**
 * The SQLite store's write cost per request at concurrency 1, old schema against new, in
 * one process: `node --import tsx bench/store-writes.ts [--requests N] [--prefill N] [--only NAME]`.
 *
 * At c=1 every request gets its own commit (src/store/group-commit.ts): the durable
 * in_flight INSERT, committed at setImmediate together with what the previous request
 * deferred (its finishing UPDATE and its signature). Each page a commit touches is one
 * WAL frame (a 24-byte header and a 4 KiB page, two pwrite64 calls), so the schema's
 * b-trees decide the cost. This replays that commit, with the store's own statements
 * (src/store/sqlite-sql.ts), on a file database with the store's pragmas:
 *   - v3: the schema before migration 4: three usage indexes, two signature rows per
 *     exchange (ours and the upstream's id).
 *   - v4: the store's schema now: one partial index of in_flight rows, one signature row
 *     and an alias row.
 *   - v4-without-rowid: v4 with usage and signatures rebuilt WITHOUT ROWID, the
 *     alternative migration 4 did not take (kept here so its figures can be checked).
 * Schemas alternate in rounds; each keeps its own file across rounds, so tables grow.
 * Reported per request: CPU (process.cpuUsage, user + system), write syscalls and bytes
 * (/proc/self/io syscw and wchar: nothing else writes during a round), and WAL frames per
 * commit, counted in a last pass with automatic checkpoints off. The request data (ids,
 * signatures) is made before each round's clock starts.
 * Cross-check the syscalls with `strace -c -f -e trace=pwrite64 node --import tsx
 * bench/store-writes.ts --only v3` (counts the open and prefill too).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { MIGRATIONS } from "../src/store/migrations.js";
import { SQLITE_SQL } from "../src/store/sqlite-sql.js";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const REQUESTS = arg("requests", 10_000);
const PREFILL = arg("prefill", 0);
const ROUNDS = 10;
const FRAME_PASS = 1_000;
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;

// migration 4 as it would read WITHOUT ROWID (usage's request_id must then be NOT NULL).
const WITHOUT_ROWID = `
  CREATE TABLE usage_w (request_id TEXT NOT NULL PRIMARY KEY, key_id TEXT, model TEXT NOT NULL, route TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL,
    started_at INTEGER NOT NULL, finished_at INTEGER, node_id TEXT) WITHOUT ROWID;
  INSERT INTO usage_w SELECT request_id, key_id, model, route, prompt_tokens, completion_tokens, status, started_at, finished_at, node_id FROM usage;
  DROP TABLE usage; ALTER TABLE usage_w RENAME TO usage;
  CREATE INDEX usage_in_flight ON usage(node_id) WHERE status = 'in_flight';
  CREATE TABLE signatures_w (id TEXT NOT NULL, algo TEXT NOT NULL, text TEXT NOT NULL, signature TEXT NOT NULL,
    address TEXT NOT NULL, created INTEGER NOT NULL, key_id TEXT, PRIMARY KEY (id, algo)) WITHOUT ROWID;
  INSERT INTO signatures_w SELECT id, algo, text, signature, address, created, key_id FROM signatures;
  DROP TABLE signatures; ALTER TABLE signatures_w RENAME TO signatures;`;

interface Variant {
  readonly name: string;
  readonly schema: readonly string[];
  /** v3 wrote a second signature row under the upstream's id; v4 writes an alias. */
  readonly alias: boolean;
}

const VARIANTS: readonly Variant[] = [
  { name: "v3", schema: MIGRATIONS.slice(0, 3), alias: false },
  { name: "v4", schema: MIGRATIONS, alias: true },
  { name: "v4-without-rowid", schema: [...MIGRATIONS, WITHOUT_ROWID], alias: true },
].filter((v) => only === undefined || v.name === only);

interface Exchange {
  readonly id: string;
  readonly upstreamId: string;
  readonly text: string;
  readonly signature: string;
}

// Like the gateway's ids (src/gateway/context.ts newId) and an ECDSA signature over two hashes.
const newId = (): string => `chatcmpl-${randomBytes(18).toString("base64url")}`;
const exchanges = (n: number): Exchange[] =>
  Array.from({ length: n }, () => ({
    id: newId(),
    upstreamId: newId(),
    text: `${randomBytes(32).toString("hex")}:${randomBytes(32).toString("hex")}`,
    signature: `0x${randomBytes(65).toString("hex")}`,
  }));

const KEY = "key_0123456789ab";
const ADDRESS = `0x${"ab".repeat(20)}`;

interface Replayer {
  /** One commit: the previous exchange's finish and signature, then this one's in_flight row. */
  commit(next: Exchange): void;
  readonly db: Database.Database;
}

function open(v: Variant, dir: string): Replayer {
  const db = new Database(join(dir, `${v.name}.db`));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  for (const m of v.schema) db.transaction(() => db.exec(m))();
  const start = db.prepare(SQLITE_SQL.startUsage);
  const finish = db.prepare(SQLITE_SQL.finishUsage);
  const putSig = db.prepare(SQLITE_SQL.putSig);
  const putAlias = v.alias ? db.prepare(SQLITE_SQL.putAlias) : null;
  let prev: Exchange | null = null;
  const tx = db.transaction((p: Exchange | null, next: Exchange) => {
    if (p) {
      const now = Date.now();
      finish.run(3, 9, "ok", now, p.id);
      const written = putSig.run(p.id, "ecdsa", p.text, p.signature, ADDRESS, now, KEY).changes > 0;
      if (putAlias) {
        if (written) putAlias.run(p.upstreamId, "ecdsa", p.id, KEY);
      } else putSig.run(p.upstreamId, "ecdsa", p.text, p.signature, ADDRESS, now, KEY);
    }
    start.run(next.id, KEY, "model-x", "/v1/chat/completions", Date.now(), "local");
  });
  return {
    db,
    commit(next) {
      tx(prev, next);
      prev = next;
    },
  };
}

function procIo(): { writes: number; bytes: number } {
  const text = readFileSync("/proc/self/io", "utf8");
  const field = (k: string): number => Number(new RegExp(`${k}: (\\d+)`).exec(text)?.[1] ?? NaN);
  return { writes: field("syscw"), bytes: field("wchar") };
}

const dir = mkdtempSync(join(tmpdir(), "store-writes-"));
try {
  const runs = VARIANTS.map((v) => ({ v, r: open(v, dir), cpuUs: 0, writes: 0, bytes: 0, frames: 0 }));
  if (PREFILL > 0) for (const run of runs) for (const e of exchanges(PREFILL)) run.r.commit(e);
  for (const run of runs) run.r.db.pragma("wal_checkpoint(TRUNCATE)");

  const perRound = Math.ceil(REQUESTS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const run of round % 2 === 0 ? runs : [...runs].reverse()) {
      const batch = exchanges(perRound);
      const io0 = procIo();
      const cpu0 = process.cpuUsage();
      for (const e of batch) run.r.commit(e);
      const cpu = process.cpuUsage(cpu0);
      const io1 = procIo();
      run.cpuUs += cpu.user + cpu.system;
      run.writes += io1.writes - io0.writes;
      run.bytes += io1.bytes - io0.bytes;
    }
  }
  for (const run of runs) {
    run.r.db.pragma("wal_checkpoint(TRUNCATE)");
    run.r.db.pragma("wal_autocheckpoint = 0");
    for (const e of exchanges(FRAME_PASS)) run.r.commit(e);
    const [ck] = run.r.db.pragma("wal_checkpoint(PASSIVE)") as { log: number }[];
    run.frames = (ck?.log ?? NaN) / FRAME_PASS;
    run.r.db.close();
  }

  const n = perRound * ROUNDS;
  const base = runs[0];
  console.log(`store writes, c=1 commit pattern: ${n} requests per schema in ${ROUNDS} alternating rounds, prefill ${PREFILL} (file db, WAL, synchronous=NORMAL)`);
  for (const run of runs) {
    const us = run.cpuUs / n;
    const ratio = base && run !== base ? `  ${(us / (base.cpuUs / n)).toFixed(2)}x ${base.v.name}` : "";
    console.log(
      `  ${run.v.name.padEnd(17)} CPU ${us.toFixed(1).padStart(6)} µs/req  write syscalls ${(run.writes / n).toFixed(1).padStart(5)}/req  ` +
        `${(run.bytes / n / 1024).toFixed(1).padStart(5)} KiB/req  WAL frames/commit ${run.frames.toFixed(2)}${ratio}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
