import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { FLUSH_MS } from "./group-commit.js";
import { MIGRATIONS } from "./migrations.js";
import { listJournals, readJournal } from "./intent-journal.js";
import { openSqliteStore } from "./sqlite.js";
import { describeStoreBehaviour } from "./test-store-behaviour.js";

const tmpDb = (): string => join(mkdtempSync(join(tmpdir(), "store-")), "cloister.db");

describe("sqlite store", () => {
  it("migrates by user_version, in WAL mode", () => {
    const path = tmpDb();
    openSqliteStore({ path });
    const db = new Database(path);
    expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });
});

for (const [writer, journal] of [["thread", false], ["worker", false], ["worker", true]] as const) {
describeStoreBehaviour(`sqlite store behaviour (commits on the ${writer === "worker" ? "writer thread" : "event loop"}${journal ? ", in_flight journal" : ""})`, async () => {
  const path = tmpDb();
  return {
    open: async (o) => openSqliteStore({ path, writer, journal, ...o }),
    ...(journal ? { journaledIds: async () => readJournal(listJournals(path).map((j) => j.path)).map((r) => String(r[0])) } : {}),
    committedRows: async (table) => {
      const raw = new Database(path, { readonly: true });
      try {
        return raw.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
      } finally {
        raw.close();
      }
    },
    seedOld: async (version, sql) => {
      const raw = new Database(path);
      try {
        for (const m of MIGRATIONS.slice(0, version)) raw.exec(m);
        raw.pragma(`user_version = ${version}`);
        raw.exec(sql);
      } finally {
        raw.close();
      }
    },
  };
});
}

for (const writer of ["thread", "worker"] as const)
describe(`sqlite store group commit (${writer === "worker" ? "writer thread" : "event loop"})`, () => {
  it("shows queued signatures and usage completions to reads at once, and commits them within FLUSH_MS", async () => {
    const path = tmpDb();
    const s = openSqliteStore({ path, writer });
    await s.startUsage({ requestId: "a", keyId: null, model: "m", route: "/v1/chat/completions", startedAt: 1 });
    await s.finishUsage("a", { promptTokens: 1, completionTokens: 2, status: "ok", finishedAt: 2 });
    await s.putSignature({ id: "a", algo: "ecdsa", text: "t", signature: "s", address: "0xa" });
    // Another connection (another process) sees only committed data: not yet here…
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare("SELECT COUNT(*) AS n FROM signatures").get()).toEqual({ n: 0 });
    // …but this store's own reads do, at once.
    expect(await s.getSignature("a", "ecdsa")).toMatchObject({ text: "t", signature: "s" });
    expect((await s.listUsage())[0]).toMatchObject({ status: "ok", completionTokens: 2 });
    await s.putSignature({ id: "b", algo: "ecdsa", text: "t2", signature: "s2", address: "0xa" });
    await new Promise((r) => setTimeout(r, FLUSH_MS + 20));
    expect(raw.prepare("SELECT id FROM signatures ORDER BY id").all()).toEqual([{ id: "a" }, { id: "b" }]);
    raw.close();
    await s.close();
  });

  it("commits queued writes together with the next in_flight row, which is durable when startUsage resolves", async () => {
    const path = tmpDb();
    const s = openSqliteStore({ path, writer });
    await s.startUsage({ requestId: "a", keyId: null, model: "m", route: "/v1/completions", startedAt: 1 });
    await s.finishUsage("a", { promptTokens: 1, completionTokens: 1, status: "ok", finishedAt: 2 });
    await s.startUsage({ requestId: "b", keyId: null, model: "m", route: "/v1/completions", startedAt: 3 });
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare("SELECT request_id, status FROM usage ORDER BY request_id").all()).toEqual([
      { request_id: "a", status: "ok" },
      { request_id: "b", status: "in_flight" },
    ]);
    raw.close();
    await s.close();
  });

  it("keeps the other queued writes and reports the one that failed", async () => {
    const errors: string[] = [];
    const s = openSqliteStore({ path: writer === "worker" ? tmpDb() : ":memory:", writer, onWriteError: (e) => errors.push(e.code) });
    await s.putSignature({ id: "ok1", algo: "ecdsa", text: "t", signature: "s", address: "0xa" });
    // text is NOT NULL in the schema: this one write fails when the batch commits.
    await s.putSignature({ id: "bad", algo: "ecdsa", text: null as unknown as string, signature: "s", address: "0xa" });
    await s.putSignature({ id: "ok2", algo: "ecdsa", text: "t", signature: "s", address: "0xa" });
    await new Promise((r) => setTimeout(r, FLUSH_MS + 20));
    expect(await s.getSignature("ok1", "ecdsa")).not.toBeNull();
    expect(await s.getSignature("ok2", "ecdsa")).not.toBeNull();
    expect(errors).toEqual(["STORE_WRITE_FAILED"]);
    await s.close();
  });

  it("commits queued writes on close, so a clean stop loses nothing", async () => {
    const path = tmpDb();
    const s = openSqliteStore({ path, writer });
    await s.putSignature({ id: "z", algo: "ed25519", text: "t", signature: "s", address: "ab" });
    await s.close();
    const again = openSqliteStore({ path, writer });
    expect(await again.getSignature("z", "ed25519")).toMatchObject({ id: "z" });
    await again.close();
  });

  it("commits in_flight rows that start together in one go, each durable when its startUsage resolves", async () => {
    const path = tmpDb();
    const s = openSqliteStore({ path, writer });
    const raw = new Database(path, { readonly: true });
    const count = (): unknown => raw.prepare("SELECT COUNT(*) AS n FROM usage").get();
    const started = ["a", "b", "c"].map((id) => s.startUsage({ requestId: id, keyId: null, model: "m", route: "/v1/completions", startedAt: 1 }));
    expect(count()).toEqual({ n: 0 });
    await Promise.all(started);
    expect(count()).toEqual({ n: 3 });
    raw.close();
    await s.close();
    await expect(s.startUsage({ requestId: "d", keyId: null, model: "m", route: "/v1/completions", startedAt: 1 })).rejects.toMatchObject({ code: "STORE_WRITE_FAILED" });
  });
});
