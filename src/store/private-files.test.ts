/**
 * Every SQLite file a node keeps in its data dir is its user's alone, whatever the umask:
 * the main store (usage, signature texts), the market receipts (what users spent) and the
 * agent hub (publishers, telemetry). SQLite gives -wal and -shm the database's mode.
 */
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openHubStore } from "../agents/hub/store.js";
import { openSqliteReceiptStore } from "../ledger/receipt-store-sqlite.js";
import { openSqliteStore } from "./sqlite.js";

function modes(dir: string): Record<string, number> {
  return Object.fromEntries(readdirSync(dir).map((n) => [n, statSync(join(dir, n)).mode & 0o777]));
}

describe("a node's SQLite files", () => {
  it("are created 0600, with their WAL and shared-memory files, under a permissive umask", async () => {
    const old = process.umask(0o000);
    try {
      const dir = mkdtempSync(join(tmpdir(), "private-db-"));
      const main = openSqliteStore({ path: join(dir, "cloister.db") });
      await main.listUsage();
      const receipts = openSqliteReceiptStore(join(dir, "market-receipts.sqlite"));
      await receipts.latest();
      const hub = openHubStore(join(dir, "agents.sqlite"));
      const files = modes(dir);
      for (const base of ["cloister.db", "market-receipts.sqlite", "agents.sqlite"]) {
        expect(files[base]).toBe(0o600);
        expect(files[`${base}-wal`]).toBe(0o600);
      }
      expect(Object.entries(files).filter(([, m]) => (m & 0o077) !== 0)).toEqual([]);
      hub.close();
      receipts.close();
      await main.close();
    } finally {
      process.umask(old);
    }
  });
});
