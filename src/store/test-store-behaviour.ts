/**
 * The behaviour every Store must have, run against each implementation (sqlite.test.ts,
 * postgres.test.ts) so the two cannot drift apart. Test support only: the build skips
 * src/**\/test-*.ts.
 */
import { describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey } from "./api-keys.js";
import type { Store } from "./store.js";

export interface StoreLocation {
  /** Opens the store at this location; may be called again after close (a restart). */
  open(opts?: { readonly nodeId?: string; readonly recover?: boolean }): Promise<Store & { readonly interruptedAtOpen: number }>;
  /** Every row of a table as another connection sees it: committed data only. */
  committedRows(table: "api_keys" | "usage" | "signatures"): Promise<readonly Record<string, unknown>[]>;
  /**
   * Leaves this location as an older release did: its first `version` migrations applied
   * and recorded, then `sql` run (literals only, no parameters: both dialects read it).
   */
  seedOld(version: number, sql: string): Promise<void>;
  /**
   * For a store whose in_flight row is made kill-safe otherwise than by committing it when
   * startUsage resolves (the SQLite in_flight journal): the request ids its journal holds.
   * Its own tests kill a process.
   */
  readonly journaledIds?: () => Promise<readonly string[]>;
}

/** `newLocation` gives a fresh, empty database (file, schema) each call; `skip` skips all (say why in the title). */
export function describeStoreBehaviour(title: string, newLocation: () => Promise<StoreLocation>, skip = false): void {
  describe.skipIf(skip)(title, () => {
    it("stores API keys only as hashes and finds, lists and revokes them", async () => {
      const loc = await newLocation();
      const s = await loc.open();
      const k = generateApiKey();
      expect(k.key).toMatch(/^sk-cloister-[A-Za-z0-9_-]{43}$/);
      await s.createApiKey({ id: k.id, hash: k.hash, name: "ci", created: 1 });
      expect(await s.findApiKeyByHash(hashApiKey(k.key))).toEqual({ id: k.id, name: "ci", created: 1, revoked: null });
      expect(await s.findApiKeyByHash(hashApiKey("sk-cloister-nope"))).toBeNull();
      expect(await s.revokeApiKey(k.id, 5)).toBe(true);
      expect(await s.revokeApiKey(k.id, 9)).toBe(true);
      expect((await s.listApiKeys())[0]?.revoked).toBe(5);
      expect(await s.revokeApiKey("key_nope", 5)).toBe(false);
      await s.close();
      const dump = JSON.stringify(await loc.committedRows("api_keys"));
      expect(dump).toContain(k.hash);
      expect(dump).not.toContain(k.key);
    });

    it("keeps the running totals of a request killed mid-way, and never lets them overwrite a finished row", async () => {
      const loc = await newLocation();
      const s = await loc.open();
      await s.startUsage({ requestId: "a", keyId: null, model: "m", route: "/v1/completions", startedAt: 1 });
      await s.startUsage({ requestId: "b", keyId: null, model: "m", route: "/v1/completions", startedAt: 2 });
      await s.progressUsage("a", { promptTokens: 7, completionTokens: 40 });
      await s.finishUsage("b", { promptTokens: 3, completionTokens: 9, status: "ok", finishedAt: 3 });
      await s.progressUsage("b", { promptTokens: 3, completionTokens: 5 }); // late: ignored
      await s.close(); // "a" dies here
      const again = await loc.open();
      expect((await again.listUsage()).map((r) => [r.requestId, r.status, r.promptTokens, r.completionTokens])).toEqual([
        ["a", "interrupted", 7, 40],
        ["b", "ok", 3, 9],
      ]);
      await again.close();
    });

    it("recovers only its own node's in_flight rows (and rows from before node ids), never another live node's", async () => {
      const loc = await newLocation();
      const a = await loc.open({ nodeId: "node-a" });
      await a.startUsage({ requestId: "ra", keyId: null, model: "m", route: "/v1/completions", startedAt: 1 });
      await a.listUsage(); // a read commits what a queued: node-b may see it from here on
      const b = await loc.open({ nodeId: "node-b" });
      expect(b.interruptedAtOpen).toBe(0);
      await b.startUsage({ requestId: "rb", keyId: null, model: "m", route: "/v1/completions", startedAt: 2 });
      expect((await b.listUsage()).map((r) => [r.requestId, r.status, r.nodeId])).toEqual([
        ["ra", "in_flight", "node-a"],
        ["rb", "in_flight", "node-b"],
      ]);
      // A tool (`cloister keys`) opening the store as node-b recovers nothing.
      const tool = await loc.open({ nodeId: "node-b", recover: false });
      expect(tool.interruptedAtOpen).toBe(0);
      await tool.close();
      await b.close();
      const b2 = await loc.open({ nodeId: "node-b" });
      expect(b2.interruptedAtOpen).toBe(1);
      expect((await b2.listUsage()).map((r) => [r.requestId, r.status])).toEqual([
        ["ra", "in_flight"],
        ["rb", "interrupted"],
      ]);
      await b2.close();
      await a.close();
    });

    it("keeps usage of a request killed mid-way, marked interrupted at the next open", async () => {
      const loc = await newLocation();
      const s = await loc.open();
      await s.startUsage({ requestId: "a", keyId: "k", model: "m", route: "/v1/chat/completions", startedAt: 1 });
      await s.startUsage({ requestId: "b", keyId: "k", model: "m", route: "/v1/chat/completions", startedAt: 2 });
      await s.startUsage({ requestId: "c", keyId: "k2", model: "m", route: "/v1/chat/completions", startedAt: 3 });
      await s.finishUsage("b", { promptTokens: 4, completionTokens: 5, status: "ok", finishedAt: 3 });
      await s.finishUsage("c", { promptTokens: 1, completionTokens: 1, status: "error", finishedAt: 4 });
      // No finish for "a": the process "dies" here.
      await s.close();
      const again = await loc.open();
      expect(again.interruptedAtOpen).toBe(1);
      const rows = await again.listUsage();
      expect(rows.map((r) => [r.requestId, r.status, r.completionTokens])).toEqual([
        ["a", "interrupted", 0],
        ["b", "ok", 5],
        ["c", "error", 1],
      ]);
      expect(rows[1]).toEqual({ requestId: "b", keyId: "k", model: "m", route: "/v1/chat/completions", startedAt: 2, promptTokens: 4, completionTokens: 5, status: "ok", finishedAt: 3, nodeId: "local" });
      expect((await again.listUsage({ status: "ok" })).map((r) => r.requestId)).toEqual(["b"]);
      expect((await again.listUsage({ keyId: "k2" })).map((r) => r.requestId)).toEqual(["c"]);
      expect(await again.listUsage({ keyId: "k", status: "error" })).toEqual([]);
      await again.close();
    });

    it("has the in_flight row committed (or journaled) when startUsage resolves", async () => {
      const loc = await newLocation();
      const s = await loc.open();
      await Promise.all(["a", "b"].map((id) => s.startUsage({ requestId: id, keyId: null, model: "m", route: "/v1/completions", startedAt: 1 })));
      const rows = new Map((await loc.committedRows("usage")).map((r) => [r["request_id"], r["status"]]));
      for (const id of (await loc.journaledIds?.()) ?? []) if (!rows.has(id)) rows.set(id, "in_flight");
      expect([...rows].sort()).toEqual([
        ["a", "in_flight"],
        ["b", "in_flight"],
      ]);
      await s.close();
    });

    it("shows usage completions and signatures to its reads as soon as the write resolves", async () => {
      const loc = await newLocation();
      const s = await loc.open();
      await s.startUsage({ requestId: "a", keyId: null, model: "m", route: "/v1/chat/completions", startedAt: 1 });
      await s.finishUsage("a", { promptTokens: 1, completionTokens: 2, status: "ok", finishedAt: 2 });
      await s.putSignature({ id: "a", algo: "ecdsa", text: "t", signature: "s", address: "0xa" });
      expect(await s.getSignature("a", "ecdsa")).toMatchObject({ text: "t", signature: "s" });
      expect((await s.listUsage())[0]).toMatchObject({ status: "ok", completionTokens: 2, finishedAt: 2 });
      await s.close();
    });

    it("stores signatures per id and algorithm, with the key that made the request", async () => {
      const loc = await newLocation();
      const s = await loc.open();
      await s.putSignature({ id: "x", algo: "ecdsa", text: "t", signature: "s", address: "0xa" });
      expect(await s.getSignature("x", "ecdsa")).toEqual({ id: "x", algo: "ecdsa", text: "t", signature: "s", address: "0xa", keyId: null });
      expect(await s.getSignature("x", "ed25519")).toBeNull();
      await s.putSignature({ id: "y", algo: "ecdsa", text: "t", signature: "s", address: "0xa", keyId: "key_1" });
      expect((await s.getSignature("y", "ecdsa"))?.keyId).toBe("key_1");
      await s.close();
    });

    it("never lets one API key replace a signature row another key owns; the owner may refresh it", async () => {
      const loc = await newLocation();
      const s = await loc.open();
      await s.putSignature({ id: "chatcmpl-v", algo: "ecdsa", text: "victim", signature: "s1", address: "0xa", keyId: "key_b" });
      await s.putSignature({ id: "chatcmpl-v", algo: "ecdsa", text: "attacker", signature: "s2", address: "0xa", keyId: "key_a" });
      expect(await s.getSignature("chatcmpl-v", "ecdsa")).toMatchObject({ text: "victim", keyId: "key_b" });
      // Auth off (no key) may not take over a keyed row either…
      await s.putSignature({ id: "chatcmpl-v", algo: "ecdsa", text: "anon", signature: "s4", address: "0xa" });
      expect(await s.getSignature("chatcmpl-v", "ecdsa")).toMatchObject({ text: "victim", keyId: "key_b" });
      await s.putSignature({ id: "chatcmpl-v", algo: "ecdsa", text: "again", signature: "s3", address: "0xa", keyId: "key_b" });
      expect(await s.getSignature("chatcmpl-v", "ecdsa")).toMatchObject({ text: "again", keyId: "key_b" });
      // …but an unkeyed row refreshes itself (NULL owner matches NULL owner).
      await s.putSignature({ id: "n", algo: "ecdsa", text: "one", signature: "s", address: "0xa" });
      await s.putSignature({ id: "n", algo: "ecdsa", text: "two", signature: "s", address: "0xa" });
      expect(await s.getSignature("n", "ecdsa")).toMatchObject({ text: "two", keyId: null });
      await s.close();
    });

    it("finds one signature row by its id and by its alias (the upstream's id), and refreshes the alias for the same owner", async () => {
      const loc = await newLocation();
      const s = await loc.open();
      await s.putSignature({ id: "chatcmpl-1", algo: "ecdsa", text: "t1", signature: "s1", address: "0xa", keyId: "key_b", alias: "up-1" });
      const row = { id: "chatcmpl-1", algo: "ecdsa", text: "t1", signature: "s1", address: "0xa", keyId: "key_b" };
      expect(await s.getSignature("chatcmpl-1", "ecdsa")).toEqual(row);
      expect(await s.getSignature("up-1", "ecdsa")).toEqual(row);
      expect(await s.getSignature("up-1", "ed25519")).toBeNull();
      // One row per exchange, not a copy under the upstream's id.
      await s.close();
      expect((await loc.committedRows("signatures")).map((r) => r["id"])).toEqual(["chatcmpl-1"]);
      const again = await loc.open();
      // The same key naming the alias again (an upstream echoing its request_id) moves it.
      await again.putSignature({ id: "chatcmpl-2", algo: "ecdsa", text: "t2", signature: "s2", address: "0xa", keyId: "key_b", alias: "up-1" });
      expect(await again.getSignature("up-1", "ecdsa")).toMatchObject({ id: "chatcmpl-2", text: "t2" });
      expect(await again.getSignature("chatcmpl-1", "ecdsa")).toMatchObject({ text: "t1" });
      await again.close();
    });

    it("never lets one key's alias take another key's name or point at another key's row", async () => {
      const loc = await newLocation();
      const s = await loc.open();
      await s.putSignature({ id: "chatcmpl-v", algo: "ecdsa", text: "victim", signature: "s1", address: "0xa", keyId: "key_b", alias: "chatcmpl-shared" });
      // Key A's upstream echoes a name B already holds: B keeps it; A's row is still found by its own id.
      await s.putSignature({ id: "chatcmpl-a1", algo: "ecdsa", text: "attacker", signature: "s2", address: "0xa", keyId: "key_a", alias: "chatcmpl-shared" });
      expect(await s.getSignature("chatcmpl-shared", "ecdsa")).toMatchObject({ id: "chatcmpl-v", text: "victim", keyId: "key_b" });
      expect(await s.getSignature("chatcmpl-a1", "ecdsa")).toMatchObject({ text: "attacker", keyId: "key_a" });
      // Auth off (no key) may not take a keyed name either.
      await s.putSignature({ id: "chatcmpl-n1", algo: "ecdsa", text: "anon", signature: "s3", address: "0xa", alias: "chatcmpl-shared" });
      expect(await s.getSignature("chatcmpl-shared", "ecdsa")).toMatchObject({ text: "victim", keyId: "key_b" });
      // An alias named like B's own id never shadows B's row: an id wins over an alias.
      await s.putSignature({ id: "chatcmpl-a2", algo: "ecdsa", text: "attacker", signature: "s4", address: "0xa", keyId: "key_a", alias: "chatcmpl-v" });
      expect(await s.getSignature("chatcmpl-v", "ecdsa")).toMatchObject({ text: "victim", keyId: "key_b" });
      // A write under B's id by key A changes nothing, so its alias is not written: it would name B's row.
      await s.putSignature({ id: "chatcmpl-v", algo: "ecdsa", text: "attacker", signature: "s5", address: "0xa", keyId: "key_a", alias: "up-a" });
      expect(await s.getSignature("up-a", "ecdsa")).toBeNull();
      expect(await s.getSignature("chatcmpl-v", "ecdsa")).toMatchObject({ text: "victim", keyId: "key_b" });
      await s.close();
    });

    it("upgrades a store written before aliases (v3): usage rows, recovery, and signatures by both ids", async () => {
      const loc = await newLocation();
      await loc.seedOld(
        3,
        `INSERT INTO usage (request_id, key_id, model, route, prompt_tokens, completion_tokens, status, started_at, finished_at, node_id) VALUES
           ('chatcmpl-a', 'key_b', 'm', '/v1/chat/completions', 3, 9, 'ok', 1, 2, 'local'),
           ('chatcmpl-b', NULL, 'm', '/v1/chat/completions', 1, 4, 'in_flight', 3, NULL, 'local'),
           ('chatcmpl-c', NULL, 'm', '/v1/chat/completions', 0, 0, 'in_flight', 4, NULL, 'node-x');
         INSERT INTO signatures (id, algo, text, signature, address, created, key_id) VALUES
           ('chatcmpl-a', 'ecdsa', 'ta', 'sa', '0xa', 2, 'key_b'),
           ('up-a', 'ecdsa', 'ta', 'sa', '0xa', 2, 'key_b'),
           ('chatcmpl-z', 'ed25519', 'tz', 'sz', 'ab', 2, NULL);`,
      );
      const s = await loc.open();
      expect(s.interruptedAtOpen).toBe(1);
      expect((await s.listUsage()).map((r) => [r.requestId, r.status, r.promptTokens, r.completionTokens, r.nodeId])).toEqual([
        ["chatcmpl-a", "ok", 3, 9, "local"],
        ["chatcmpl-b", "interrupted", 1, 4, "local"],
        ["chatcmpl-c", "in_flight", 0, 0, "node-x"],
      ]);
      expect((await s.listUsage({ keyId: "key_b" })).map((r) => r.requestId)).toEqual(["chatcmpl-a"]);
      expect((await s.listUsage({ status: "in_flight" })).map((r) => r.requestId)).toEqual(["chatcmpl-c"]);
      // The old release's two rows per exchange are both still found.
      expect(await s.getSignature("chatcmpl-a", "ecdsa")).toMatchObject({ text: "ta", keyId: "key_b" });
      expect(await s.getSignature("up-a", "ecdsa")).toMatchObject({ text: "ta", keyId: "key_b" });
      expect(await s.getSignature("chatcmpl-z", "ed25519")).toMatchObject({ text: "tz", keyId: null });
      // An old row keeps its owner against a new alias of the same name.
      await s.putSignature({ id: "chatcmpl-d", algo: "ecdsa", text: "td", signature: "sd", address: "0xa", keyId: "key_a", alias: "up-a" });
      expect(await s.getSignature("up-a", "ecdsa")).toMatchObject({ text: "ta", keyId: "key_b" });
      // New writes work on the upgraded schema, and node-x's row is recovered by node-x.
      await s.startUsage({ requestId: "chatcmpl-d", keyId: "key_a", model: "m", route: "/v1/chat/completions", startedAt: 5 });
      await s.close();
      const x = await loc.open({ nodeId: "node-x" });
      expect(x.interruptedAtOpen).toBe(1);
      expect((await x.listUsage({ status: "interrupted" })).map((r) => r.requestId)).toEqual(["chatcmpl-b", "chatcmpl-c"]);
      expect(await x.getSignature("chatcmpl-d", "ecdsa")).toMatchObject({ text: "td", keyId: "key_a" });
      await x.close();
    });

    it("keeps what was written across a clean close and refuses writes after it", async () => {
      const loc = await newLocation();
      const s = await loc.open();
      await s.putSignature({ id: "z", algo: "ed25519", text: "t", signature: "s", address: "ab" });
      await s.close();
      await expect(s.startUsage({ requestId: "d", keyId: null, model: "m", route: "/v1/completions", startedAt: 1 })).rejects.toMatchObject({ code: "STORE_WRITE_FAILED" });
      const again = await loc.open();
      expect(again.interruptedAtOpen).toBe(0);
      expect(await again.getSignature("z", "ed25519")).toMatchObject({ id: "z" });
      await again.close();
    });
  });
}
