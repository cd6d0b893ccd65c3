/**
 * Schema migrations, applied in order and recorded in SQLite's `user_version` pragma
 * (https://sqlite.org/pragma.html#pragma_user_version): migration i brings the schema
 * from version i to i+1. Append only; never edit a released migration.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     hash TEXT NOT NULL UNIQUE,
     name TEXT,
     created INTEGER NOT NULL,
     revoked INTEGER
   );
   CREATE TABLE usage (
     request_id TEXT PRIMARY KEY,
     key_id TEXT,
     model TEXT NOT NULL,
     route TEXT NOT NULL,
     prompt_tokens INTEGER NOT NULL DEFAULT 0,
     completion_tokens INTEGER NOT NULL DEFAULT 0,
     status TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     finished_at INTEGER
   );
   CREATE INDEX usage_key ON usage(key_id, model);
   CREATE INDEX usage_status ON usage(status);
   CREATE TABLE signatures (
     id TEXT NOT NULL,
     algo TEXT NOT NULL,
     text TEXT NOT NULL,
     signature TEXT NOT NULL,
     address TEXT NOT NULL,
     created INTEGER NOT NULL,
     PRIMARY KEY (id, algo)
   );`,
  // Who may read a signature: the API key that made the request (null with --no-auth).
  `ALTER TABLE signatures ADD COLUMN key_id TEXT;`,
  // Which node served a request: a node recovers (marks interrupted) only its own rows.
  `ALTER TABLE usage ADD COLUMN node_id TEXT;
   CREATE INDEX usage_node_status ON usage(node_id, status);`,
  // Fewer pages per commit (each a 4 KiB WAL frame; bench/store-writes.ts: 11.8 frames per
  // c=1 commit before, 7.6 after, ~27% less CPU). The open's recovery reads in_flight rows
  // only, so one partial index holds just those: finishing a request deletes its entry
  // from the page it went into, where (status, node_id) would also insert it among the
  // finished ones. Nothing else reads by key_id+model or by status (listUsage's filters
  // scan, as listUsage() does). The upstream's completion id becomes an alias of the
  // exchange's one signature row instead of a second copy of it. usage and signatures
  // stay rowid tables: rebuilt WITHOUT ROWID they wrote as many frames for more CPU (rows
  // of 150-400 bytes, against SQLite's advice of under ~1/20 page for WITHOUT ROWID,
  // https://sqlite.org/withoutrowid.html section 4), and the rebuild would copy every row.
  `DROP INDEX usage_key;
   DROP INDEX usage_status;
   DROP INDEX usage_node_status;
   CREATE INDEX usage_in_flight ON usage(node_id) WHERE status = 'in_flight';
   CREATE TABLE signature_aliases (
     alias TEXT NOT NULL,
     algo TEXT NOT NULL,
     id TEXT NOT NULL,
     key_id TEXT,
     PRIMARY KEY (alias, algo)
   ) WITHOUT ROWID;`,
];
