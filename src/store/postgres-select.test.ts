/**
 * --store / CLOISTER_STORE picks the store for `cloister up` and `cloister keys`:
 * SQLite in the data dir by default, PostgreSQL for a postgres:// URL. The PostgreSQL
 * half runs against 127.0.0.1:5432 (FACTS.md) and skips, loudly, where it is absent.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { keysCommand } from "../cli/commands/keys.js";
import type { CliIO } from "../cli/io.js";
import { resolveStoreUrl } from "../config/node-config.js";
import { redactPostgresUrl } from "./postgres.js";
import { openNodeStore } from "./postgres-select.js";

const PG_URL = process.env["CLOISTER_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";
const probe = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 1000 });
const up = await probe.connect().then(
  () => true,
  () => false,
);
await probe.end().catch(() => undefined);
const schema = `cloister_test_${Math.random().toString(16).slice(2, 10)}_cli`;

afterAll(async () => {
  if (!up) return;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
});

function io(env: Record<string, string>): CliIO & { outs: string[]; errs: string[] } {
  const outs: string[] = [];
  const errs: string[] = [];
  return { out: (t) => outs.push(t), err: (t) => errs.push(t), env, cwd: "/", outs, errs };
}

describe("store selection", () => {
  it("opens SQLite in the data dir when no URL is given", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "store-select-"));
    const s = await openNodeStore({ url: undefined, dataDir });
    expect(s.where).toBe(join(dataDir, "cloister.db"));
    await s.close();
    expect(existsSync(join(dataDir, "cloister.db"))).toBe(true);
  });

  it("takes --store over CLOISTER_STORE and accepts only postgres:// URLs", () => {
    expect(resolveStoreUrl(undefined, {})).toBeUndefined();
    expect(resolveStoreUrl(undefined, { CLOISTER_STORE: "postgres://a/b" })).toBe("postgres://a/b");
    expect(resolveStoreUrl("postgresql://c/d", { CLOISTER_STORE: "postgres://a/b" })).toBe("postgresql://c/d");
    expect(() => resolveStoreUrl("sqlite:///x.db", {})).toThrow(/postgres:\/\//);
  });

  it("makes `cloister keys` exit 2 on a --store that is not a postgres URL", async () => {
    const t = io({ HOME: mkdtempSync(join(tmpdir(), "store-select-")) });
    expect(await keysCommand(["list", "--store", "mysql://x"], t)).toBe(2);
    expect(t.errs.join("\n")).toMatch(/--store must be a postgres:\/\/ URL/);
  });
});

describe.skipIf(!up)(`cloister keys --store postgres://…${up ? "" : ` (skipped: PostgreSQL not reachable at ${redactPostgresUrl(PG_URL)})`}`, () => {
  it("creates, lists and revokes keys in PostgreSQL, leaving the data dir empty", async () => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.end();
    // libpq's `options` parameter sets the schema for this test alone.
    const url = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const home = mkdtempSync(join(tmpdir(), "store-select-"));
    const created = io({ HOME: home, CLOISTER_STORE: url });
    expect(await keysCommand(["create", "--name", "ci"], created)).toBe(0);
    const id = /created (key_[0-9a-f]+)/.exec(created.errs.join("\n"))?.[1] ?? "";
    expect(id).toMatch(/^key_/);
    const listed = io({ HOME: home });
    expect(await keysCommand(["list", "--store", url], listed)).toBe(0);
    expect(listed.outs.join("\n")).toContain(id);
    expect(await keysCommand(["revoke", id, "--store", url], io({ HOME: home }))).toBe(0);
    const s = await openNodeStore({ url, dataDir: home });
    expect((await s.listApiKeys()).map((k) => [k.id, k.revoked !== null])).toEqual([[id, true]]);
    await s.close();
    expect(existsSync(join(home, ".cloister", "cloister.db"))).toBe(false);
  });
});
