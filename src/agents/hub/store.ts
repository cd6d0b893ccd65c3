/**
 * The hub's records in SQLite (better-sqlite3, WAL), in the node's data dir beside its
 * main store (`agents.sqlite`) or in memory. Its own file keeps the node's Store
 * interface untouched; a PostgreSQL twin is future work (docs/notes/agents.md).
 * Versions are immutable: the primary key refuses a second row, and nothing updates a
 * version's bundle, manifest or report — only `yanked_at` may be set, once.
 */
import Database from "better-sqlite3";
import { ensurePrivateDbFiles } from "../../store/private-files.js";

export interface VersionRow {
  readonly name: string;
  readonly version: string;
  readonly developerKey: string;
  readonly bundleSha256: string;
  readonly signedJson: string;
  readonly manifestJson: string;
  readonly reportJson: string;
  readonly reportSha256: string;
  readonly publishedAt: number;
  readonly yankedAt: number | null;
}

export interface HubStore {
  ownerOf(name: string): string | null;
  insertVersion(row: Omit<VersionRow, "yankedAt">): boolean;
  versions(name: string): VersionRow[];
  version(name: string, version: string): VersionRow | null;
  yank(name: string, version: string, at: number): boolean;
  search(query: string, limit: number): VersionRow[];
  addTelemetry(name: string, version: string, at: number, recordJson: string): void;
  telemetry(name: string, limit: number): { version: string; at: number; record: string }[];
  close(): void;
}

export function openHubStore(path = ":memory:"): HubStore {
  // Publishers, versions and run telemetry: private to the node's user, like the main store.
  if (path !== ":memory:") ensurePrivateDbFiles(path);
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  db.exec(`
    CREATE TABLE IF NOT EXISTS agent_owners (name TEXT PRIMARY KEY, developer_key TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS agent_versions (
      name TEXT NOT NULL, version TEXT NOT NULL, developer_key TEXT NOT NULL, bundle_sha256 TEXT NOT NULL,
      signed_json TEXT NOT NULL, manifest_json TEXT NOT NULL, report_json TEXT NOT NULL, report_sha256 TEXT NOT NULL,
      published_at INTEGER NOT NULL, yanked_at INTEGER, PRIMARY KEY (name, version));
    CREATE TABLE IF NOT EXISTS agent_telemetry (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, version TEXT NOT NULL, at INTEGER NOT NULL, record_json TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS agent_telemetry_name ON agent_telemetry (name, id);
  `);
  const map = (r: Record<string, unknown>): VersionRow => ({
    name: String(r["name"]),
    version: String(r["version"]),
    developerKey: String(r["developer_key"]),
    bundleSha256: String(r["bundle_sha256"]),
    signedJson: String(r["signed_json"]),
    manifestJson: String(r["manifest_json"]),
    reportJson: String(r["report_json"]),
    reportSha256: String(r["report_sha256"]),
    publishedAt: Number(r["published_at"]),
    yankedAt: r["yanked_at"] === null ? null : Number(r["yanked_at"]),
  });
  const insertOwner = db.prepare("INSERT OR IGNORE INTO agent_owners (name, developer_key, created_at) VALUES (?, ?, ?)");
  const insertVersion = db.prepare(
    "INSERT OR IGNORE INTO agent_versions (name, version, developer_key, bundle_sha256, signed_json, manifest_json, report_json, report_sha256, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  return {
    ownerOf: (name) => (db.prepare("SELECT developer_key FROM agent_owners WHERE name = ?").get(name) as { developer_key?: string } | undefined)?.developer_key ?? null,
    insertVersion: (row) =>
      db.transaction(() => {
        insertOwner.run(row.name, row.developerKey, row.publishedAt);
        const owner = (db.prepare("SELECT developer_key FROM agent_owners WHERE name = ?").get(row.name) as { developer_key: string }).developer_key;
        if (owner !== row.developerKey) return false;
        return insertVersion.run(row.name, row.version, row.developerKey, row.bundleSha256, row.signedJson, row.manifestJson, row.reportJson, row.reportSha256, row.publishedAt).changes === 1;
      })(),
    versions: (name) => (db.prepare("SELECT * FROM agent_versions WHERE name = ? ORDER BY published_at, rowid").all(name) as Record<string, unknown>[]).map(map),
    version: (name, version) => {
      const r = db.prepare("SELECT * FROM agent_versions WHERE name = ? AND version = ?").get(name, version) as Record<string, unknown> | undefined;
      return r ? map(r) : null;
    },
    yank: (name, version, at) => db.prepare("UPDATE agent_versions SET yanked_at = ? WHERE name = ? AND version = ? AND yanked_at IS NULL").run(at, name, version).changes === 1,
    search: (query, limit) => {
      const like = `%${query.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
      return (
        db
          .prepare(
            "SELECT v.* FROM agent_versions v WHERE v.yanked_at IS NULL AND v.rowid = (SELECT MAX(rowid) FROM agent_versions w WHERE w.name = v.name AND w.yanked_at IS NULL) AND (v.name LIKE ? ESCAPE '\\' OR v.manifest_json LIKE ? ESCAPE '\\') ORDER BY v.name LIMIT ?",
          )
          .all(like, like, limit) as Record<string, unknown>[]
      ).map(map);
    },
    addTelemetry: (name, version, at, recordJson) => void db.prepare("INSERT INTO agent_telemetry (name, version, at, record_json) VALUES (?, ?, ?, ?)").run(name, version, at, recordJson),
    telemetry: (name, limit) =>
      (db.prepare("SELECT version, at, record_json FROM agent_telemetry WHERE name = ? ORDER BY id DESC LIMIT ?").all(name, limit) as { version: string; at: number; record_json: string }[]).map((r) => ({ version: r.version, at: r.at, record: r.record_json })),
    close: () => db.close(),
  };
}
