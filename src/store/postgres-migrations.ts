/**
 * PostgreSQL schema migrations, applied in order and recorded one row per version in
 * `cloister_migrations` (SQLite records the same in its user_version pragma). Same
 * tables and columns as ./migrations.ts; times are BIGINT (Unix ms overflows INTEGER).
 * Append only; never edit a released migration.
 */
export const PG_MIGRATIONS_TABLE = "cloister_migrations";

export const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     hash TEXT NOT NULL UNIQUE,
     name TEXT,
     created BIGINT NOT NULL,
     revoked BIGINT
   );
   CREATE TABLE usage (
     request_id TEXT PRIMARY KEY,
     key_id TEXT,
     model TEXT NOT NULL,
     route TEXT NOT NULL,
     prompt_tokens INTEGER NOT NULL DEFAULT 0,
     completion_tokens INTEGER NOT NULL DEFAULT 0,
     status TEXT NOT NULL,
     started_at BIGINT NOT NULL,
     finished_at BIGINT
   );
   CREATE INDEX usage_key ON usage(key_id, model);
   CREATE INDEX usage_status ON usage(status);
   CREATE TABLE signatures (
     id TEXT NOT NULL,
     algo TEXT NOT NULL,
     text TEXT NOT NULL,
     signature TEXT NOT NULL,
     address TEXT NOT NULL,
     created BIGINT NOT NULL,
     PRIMARY KEY (id, algo)
   );`,
  // Who may read a signature: the API key that made the request (null with --no-auth).
  `ALTER TABLE signatures ADD COLUMN key_id TEXT;`,
  // Which node served a request: a node recovers (marks interrupted) only its own rows.
  `ALTER TABLE usage ADD COLUMN node_id TEXT;
   CREATE INDEX usage_node_status ON usage(node_id, status);`,
  // Same as SQLite's migration 4 (./migrations.ts): one partial index for the recovery of
  // in_flight rows instead of three, and the upstream's completion id as an alias row.
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
   );`,
];
