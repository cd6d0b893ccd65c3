import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey } from "./api-keys.js";
import { FLUSH_MS } from "./group-commit.js";
import { MIGRATIONS } from "./migrations.js";
import { openSqliteStore } from "./sqlite.js";

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

  it("stores API keys only as hashes and finds, lists and revokes them", async () => {
    const path = tmpDb();
    const s = openSqliteStore({ path });
    const k = generateApiKey();
    expect(k.key).toMatch(/^sk-cloister-[A-Za-z0-9_-]{43}$/);
    await s.createApiKey({ id: k.id, hash: k.hash, name: "ci", created: 1 });
    expect(await s.findApiKeyByHash(hashApiKey(k.key))).toEqual({ id: k.id, name: "ci", created: 1, revoked: null });
    expect(await s.revokeApiKey(k.id, 5)).toBe(true);
    expect(await s.revokeApiKey(k.id, 9)).toBe(true);
    expect((await s.listApiKeys())[0]?.revoked).toBe(5);
    expect(await s.revokeApiKey("key_nope", 5)).toBe(false);
    await s.close();
    const raw = new Database(path);
    const dump = JSON.stringify(raw.prepare("SELECT * FROM api_keys").all());
    expect(dump).not.toContain(k.key);
    raw.close();
  });

  it("keeps usage of a request killed mid-way, marked interrupted at the next open", async () => {
    const path = tmpDb();
    const s = openSqliteStore({ path });
    await s.startUsage({ requestId: "a", keyId: "k", model: "m", route: "/v1/chat/completions", startedAt: 1 });
    await s.startUsage({ requestId: "b", keyId: "k", model: "m", route: "/v1/chat/completions", startedAt: 2 });
    await s.finishUsage("b", { promptTokens: 4, completionTokens: 5, status: "ok", finishedAt: 3 });
    // No finish for "a": the process "dies" here.
    await s.close();
    const again = openSqliteStore({ path });
    expect(again.interruptedAtOpen).toBe(1);
    const rows = await again.listUsage();
    expect(rows.map((r) => [r.requestId, r.status, r.completionTokens])).toEqual([
      ["a", "interrupted", 0],
      ["b", "ok", 5],
    ]);
    expect((await again.listUsage({ status: "ok" })).length).toBe(1);
  });

  it("stores signatures per id and algorithm", async () => {
    const s = openSqliteStore({ path: ":memory:" });
    await s.putSignature({ id: "x", algo: "ecdsa", text: "t", signature: "s", address: "0xa" });
    expect(await s.getSignature("x", "ecdsa")).toEqual({ id: "x", algo: "ecdsa", text: "t", signature: "s", address: "0xa", keyId: null });
    expect(await s.getSignature("x", "ed25519")).toBeNull();
    // The key that made the request is kept with it (who may read it back).
    await s.putSignature({ id: "y", algo: "ecdsa", text: "t", signature: "s", address: "0xa", keyId: "key_1" });
    expect((await s.getSignature("y", "ecdsa"))?.keyId).toBe("key_1");
  });

  it("never lets one API key replace a signature row another key owns; the owner may refresh it", async () => {
    const s = openSqliteStore({ path: ":memory:" });
    await s.putSignature({ id: "chatcmpl-v", algo: "ecdsa", text: "victim", signature: "s1", address: "0xa", keyId: "key_b" });
    await s.putSignature({ id: "chatcmpl-v", algo: "ecdsa", text: "attacker", signature: "s2", address: "0xa", keyId: "key_a" });
    expect(await s.getSignature("chatcmpl-v", "ecdsa")).toMatchObject({ text: "victim", keyId: "key_b" });
    await s.putSignature({ id: "chatcmpl-v", algo: "ecdsa", text: "again", signature: "s3", address: "0xa", keyId: "key_b" });
    expect(await s.getSignature("chatcmpl-v", "ecdsa")).toMatchObject({ text: "again", keyId: "key_b" });
    await s.close();
  });
});

describe("sqlite store group commit", () => {
  it("shows queued signatures and usage completions to reads at once, and commits them within FLUSH_MS", async () => {
    const path = tmpDb();
    const s = openSqliteStore({ path });
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
    const s = openSqliteStore({ path });
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
    const s = openSqliteStore({ path: ":memory:", onWriteError: (e) => errors.push(e.code) });
    await s.putSignature({ id: "ok1", algo: "ecdsa", text: "t", signature: "s", address: "0xa" });
    // text is NOT NULL in the schema: this one write fails when the batch commits.
    await s.putSignature({ id: "bad", algo: "ecdsa", text: null as unknown as string, signature: "s", address: "0xa" });
    await s.putSignature({ id: "ok2", algo: "ecdsa", text: "t", signature: "s", address: "0xa" });
    await new Promise((r) => setTimeout(r, FLUSH_MS + 20));
    expect(await s.getSignature("ok1", "ecdsa")).not.toBeNull();
    expect(await s.getSignature("ok2", "ecdsa")).not.toBeNull();
    expect(errors).toEqual(["STORE_WRITE_FAILED"]);
  });

  it("commits queued writes on close, so a clean stop loses nothing", async () => {
    const path = tmpDb();
    const s = openSqliteStore({ path });
    await s.putSignature({ id: "z", algo: "ed25519", text: "t", signature: "s", address: "ab" });
    await s.close();
    const again = openSqliteStore({ path });
    expect(await again.getSignature("z", "ed25519")).toMatchObject({ id: "z" });
    await again.close();
  });

  it("commits in_flight rows that start together in one go, each durable when its startUsage resolves", async () => {
    const path = tmpDb();
    const s = openSqliteStore({ path });
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
