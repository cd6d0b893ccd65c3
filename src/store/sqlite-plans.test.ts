/**
 * What the store needs from SQLite's query planner (STYLE.md: a dependency's guarantees as
 * a test): every fixed statement finds its rows through a key or index, never a table
 * scan, and each commit maintains no index but these (each is a WAL frame per commit:
 * ./migrations.ts, migration 4).
 */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "./migrations.js";
import { SQLITE_SQL } from "./sqlite-sql.js";

function migrated(): Database.Database {
  const db = new Database(":memory:");
  for (const m of MIGRATIONS) db.exec(m);
  return db;
}

const plan = (db: Database.Database, sql: string, args: readonly unknown[]): string =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join(" | ");

describe("sqlite store query plans", () => {
  const db = migrated();
  const cases: ReadonlyArray<readonly [keyof typeof SQLITE_SQL, readonly unknown[], RegExp]> = [
    ["keyByHash", ["h"], /SEARCH api_keys USING INDEX sqlite_autoindex_api_keys_\d \(hash=\?\)/],
    ["revokeKey", [1, "k"], /SEARCH api_keys USING INDEX sqlite_autoindex_api_keys_\d \(id=\?\)/],
    // A scan of the partial index reads only the in_flight rows.
    ["recover", ["local"], /SCAN usage USING INDEX usage_in_flight/],
    ["progressUsage", [1, 2, "r"], /SEARCH usage USING INDEX sqlite_autoindex_usage_1 \(request_id=\?\)/],
    ["finishUsage", [1, 2, "ok", 3, "r"], /SEARCH usage USING INDEX sqlite_autoindex_usage_1 \(request_id=\?\)/],
    ["getSig", [{ id: "x", algo: "ecdsa" }], /SEARCH signatures USING INDEX sqlite_autoindex_signatures_1 \(id=\? AND algo=\?\).*SEARCH a USING PRIMARY KEY \(alias=\? AND algo=\?\).*SEARCH s USING INDEX sqlite_autoindex_signatures_1 \(id=\? AND algo=\?\)/],
  ];

  for (const [name, args, expected] of cases) {
    it(`${name} reads through its key or index, never a table scan`, () => {
      const p = plan(db, SQLITE_SQL[name], args);
      expect(p).toMatch(expected);
      expect(p).not.toMatch(/SCAN \w+(?! USING)( \||$)/);
    });
  }

  it("keeps on usage and signatures only the indexes a commit must maintain", () => {
    const indexes = (table: string): string[] =>
      (db.prepare("SELECT name FROM pragma_index_list(?) ORDER BY name").all(table) as { name: string }[]).map((r) => r.name);
    expect(indexes("usage")).toEqual(["sqlite_autoindex_usage_1", "usage_in_flight"]);
    expect(indexes("signatures")).toEqual(["sqlite_autoindex_signatures_1"]);
    // WITHOUT ROWID: the alias table is its primary key, one b-tree.
    expect(indexes("signature_aliases")).toEqual(["sqlite_autoindex_signature_aliases_1"]);
  });
});
