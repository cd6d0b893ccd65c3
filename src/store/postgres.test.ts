/**
 * The PostgreSQL store against a real server (FACTS.md: 127.0.0.1:5432, trust auth,
 * database `test`; override with CLOISTER_TEST_PG_URL). Each test gets its own schema,
 * cloister_test_<run>_<n>, dropped after the run. Skipped, loudly, where no server answers.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { PG_MIGRATIONS, PG_MIGRATIONS_TABLE } from "./postgres-migrations.js";
import { openPostgresStore, redactPostgresUrl } from "./postgres.js";
import { describeStoreBehaviour } from "./test-store-behaviour.js";

const PG_URL = process.env["CLOISTER_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";

async function reachable(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    await c.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

const up = await reachable(PG_URL);
const skipNote = up ? "" : ` (skipped: PostgreSQL not reachable at ${redactPostgresUrl(PG_URL)})`;
const run = randomBytes(4).toString("hex");
const schemas: string[] = [];

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function freshSchema(): Promise<string> {
  const schema = `cloister_test_${run}_${schemas.length}`;
  schemas.push(schema);
  await admin((c) => c.query(`CREATE SCHEMA ${schema}`));
  return schema;
}

afterAll(async () => {
  if (up && schemas.length) await admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schemas.join(", ")} CASCADE`));
});

describeStoreBehaviour(
  `postgres store behaviour${skipNote}`,
  async () => {
    const schema = await freshSchema();
    return {
      open: (o) => openPostgresStore({ url: PG_URL, schema, ...o }),
      committedRows: (table) => admin(async (c) => (await c.query<Record<string, unknown>>(`SELECT * FROM ${schema}.${table}`)).rows),
      seedOld: (version, sql) =>
        admin(async (c) => {
          await c.query(`SET search_path TO ${schema}`);
          await c.query(`CREATE TABLE ${PG_MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`);
          for (const [i, m] of PG_MIGRATIONS.slice(0, version).entries()) {
            await c.query(m);
            await c.query(`INSERT INTO ${PG_MIGRATIONS_TABLE} (version, applied_at) VALUES ($1, 0)`, [i + 1]);
          }
          await c.query(sql);
        }),
    };
  },
  !up,
);

describe.skipIf(!up)(`postgres store${skipNote}`, () => {
  it("records migrations in a table and opens an up-to-date schema again without reapplying them", async () => {
    const schema = await freshSchema();
    await (await openPostgresStore({ url: PG_URL, schema })).close();
    await (await openPostgresStore({ url: PG_URL, schema })).close();
    const versions = await admin(async (c) => (await c.query<{ version: number }>(`SELECT version FROM ${schema}.${PG_MIGRATIONS_TABLE} ORDER BY version`)).rows);
    expect(versions.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
  });

  it("migrates once when several nodes open the same empty schema together", async () => {
    const schema = await freshSchema();
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore({ url: PG_URL, schema })));
    await Promise.all(stores.map((s) => s.close()));
    const n = await admin(async (c) => (await c.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${schema}.${PG_MIGRATIONS_TABLE}`)).rows[0]?.n);
    expect(Number(n)).toBe(PG_MIGRATIONS.length);
  });

  it("refuses a schema newer than this cloister", async () => {
    const schema = await freshSchema();
    await (await openPostgresStore({ url: PG_URL, schema })).close();
    await admin((c) => c.query(`INSERT INTO ${schema}.${PG_MIGRATIONS_TABLE} (version, applied_at) VALUES ($1, 0)`, [PG_MIGRATIONS.length + 1]));
    await expect(openPostgresStore({ url: PG_URL, schema })).rejects.toMatchObject({ code: "STORE_SCHEMA_NEWER" });
  });

  it("reports a write the database refuses as STORE_WRITE_FAILED", async () => {
    const s = await openPostgresStore({ url: PG_URL, schema: await freshSchema() });
    await s.startUsage({ requestId: "dup", keyId: null, model: "m", route: "/v1/completions", startedAt: 1 });
    await expect(s.startUsage({ requestId: "dup", keyId: null, model: "m", route: "/v1/completions", startedAt: 2 })).rejects.toMatchObject({ code: "STORE_WRITE_FAILED" });
    await s.close();
  });
});

describe("postgres store options", () => {
  it("fails to open with STORE_OPEN_FAILED, password redacted, when no server answers", async () => {
    // Port 1 on loopback: connection refused at once, no network involved.
    const err = await openPostgresStore({ url: "postgres://u:hunter2@127.0.0.1:1/db", connectTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STORE_OPEN_FAILED" });
    expect(String((err as Error).message)).not.toContain("hunter2");
  });

  it("refuses a schema name that is not a plain identifier", async () => {
    await expect(openPostgresStore({ url: PG_URL, schema: "x; DROP TABLE y" })).rejects.toMatchObject({ code: "STORE_OPEN_FAILED" });
  });
});
