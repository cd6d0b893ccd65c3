import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey } from "./api-keys.js";
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
    expect(await s.getSignature("x", "ecdsa")).toEqual({ id: "x", algo: "ecdsa", text: "t", signature: "s", address: "0xa" });
    expect(await s.getSignature("x", "ed25519")).toBeNull();
  });
});
