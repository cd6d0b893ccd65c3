/**
 * Random against time-ordered request ids (src/gateway/context.ts newId), as the SQLite
 * store writes them with the in_flight journal: each group commit holds G requests (start,
 * finish, signature, the upstream id's alias), on a store prefilled with P requests.
 * Prints the CPU and WAL frames per request of each, in alternating rounds, one process:
 *
 *   node --import tsx bench/store-ids.ts [G=7] [P=50000]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { MIGRATIONS } from "../src/store/migrations.js";
import { SQLITE_SQL } from "../src/store/sqlite-sql.js";
const G = Number(process.argv[2] ?? 7);
const PREFILL = Number(process.argv[3] ?? 50000);
let t = Date.now();
const randomId = (): string => `chatcmpl-${randomBytes(18).toString("base64url")}`;
const timedId = (): string => { t += 1; return `chatcmpl-${t.toString(16).padStart(12, "0")}${randomBytes(12).toString("base64url")}`; };
const ADDRESS = `0x${"ab".repeat(20)}`;
function open(name: string, mk: () => string) {
  const dir = mkdtempSync(join(tmpdir(), "store-ids-"));
  const db = new Database(join(dir, "x.db"));
  db.pragma("journal_mode = WAL"); db.pragma("synchronous = NORMAL");
  for (const m of MIGRATIONS) db.transaction(() => db.exec(m))();
  const start = db.prepare(SQLITE_SQL.startUsage), finish = db.prepare(SQLITE_SQL.finishUsage), putSig = db.prepare(SQLITE_SQL.putSig), putAlias = db.prepare(SQLITE_SQL.putAlias);
  const group = db.transaction((ids: string[]) => {
    for (const id of ids) {
      start.run(id, "k", "model-x", "/v1/chat/completions", Date.now(), "local");
      finish.run(3, 9, "ok", Date.now(), id);
      putSig.run(id, "ecdsa", `${randomBytes(32).toString("hex")}:${randomBytes(32).toString("hex")}`, `0x${randomBytes(65).toString("hex")}`, ADDRESS, Date.now(), "k");
      putAlias.run(randomId(), "ecdsa", id, "k");
    }
  });
  return { name, mk, db, dir, group, cpu: 0, frames: 0 };
}
const runs = [open("random", randomId), open("time-ordered", timedId)];
for (const r of runs) { for (let i = 0; i < PREFILL / G; i++) r.group(Array.from({ length: G }, r.mk)); r.db.pragma("wal_checkpoint(TRUNCATE)"); }
for (let round = 0; round < 6; round++) for (const r of round % 2 ? [...runs].reverse() : runs) {
  const batches = Array.from({ length: 300 }, () => Array.from({ length: G }, r.mk));
  const c0 = process.cpuUsage(); for (const b of batches) r.group(b); const c = process.cpuUsage(c0); r.cpu += c.user + c.system;
}
for (const r of runs) {
  r.db.pragma("wal_checkpoint(TRUNCATE)"); r.db.pragma("wal_autocheckpoint = 0");
  for (let i = 0; i < 200; i++) r.group(Array.from({ length: G }, r.mk));
  const [ck] = r.db.pragma("wal_checkpoint(PASSIVE)") as { log: number }[];
  console.log(`${r.name.padEnd(13)} G=${G} prefill ${PREFILL}: CPU ${(r.cpu / (6 * 300 * G)).toFixed(1)} µs/req, WAL frames ${(ck!.log / (200 * G)).toFixed(2)}/req`);
  r.db.close(); rmSync(r.dir, { recursive: true, force: true });
}
