/**
 * The SQLite store's fixed statements (./sqlite.ts), kept apart so a test can hold each
 * to its query plan (./sqlite-plans.test.ts) and bench/store-writes.ts can replay the
 * gateway's write pattern with exactly these.
 */
export const SQLITE_SQL = {
  insertKey: "INSERT INTO api_keys (id, hash, name, created, revoked) VALUES (?, ?, ?, ?, NULL)",
  keyByHash: "SELECT id, name, created, revoked FROM api_keys WHERE hash = ?",
  listKeys: "SELECT id, name, created, revoked FROM api_keys ORDER BY created, id",
  revokeKey: "UPDATE api_keys SET revoked = COALESCE(revoked, ?) WHERE id = ?",
  // Only this node's rows (and rows from before node ids): another process on the same
  // file may be serving its own right now. Reads the usage_in_flight partial index.
  recover: "UPDATE usage SET status = 'interrupted' WHERE status = 'in_flight' AND (node_id = ? OR node_id IS NULL)",
  // A record of the in_flight journal (./intent-journal.ts) whose row may or may not have
  // committed before the kill: a row that did (finished or not) is left as it is.
  replayStart: "INSERT OR IGNORE INTO usage (request_id, key_id, model, route, status, started_at, node_id) VALUES (?, ?, ?, ?, 'in_flight', ?, ?)",
  startUsage: "INSERT INTO usage (request_id, key_id, model, route, status, started_at, node_id) VALUES (?, ?, ?, ?, 'in_flight', ?, ?)",
  progressUsage: "UPDATE usage SET prompt_tokens = ?, completion_tokens = ? WHERE request_id = ? AND status = 'in_flight'",
  finishUsage: "UPDATE usage SET prompt_tokens = ?, completion_tokens = ?, status = ?, finished_at = ? WHERE request_id = ?",
  // Never replace a row another API key owns: ids can be chosen by the caller (a
  // passthrough upstream echoes request_id into its completion id), so a plain INSERT OR
  // REPLACE let key A overwrite key B's signature. Same owner (or auth off, NULL IS NULL)
  // may refresh its own row.
  putSig:
    "INSERT INTO signatures (id, algo, text, signature, address, created, key_id) VALUES (?, ?, ?, ?, ?, ?, ?) " +
    "ON CONFLICT (id, algo) DO UPDATE SET text = excluded.text, signature = excluded.signature, address = excluded.address, created = excluded.created " +
    "WHERE signatures.key_id IS excluded.key_id",
  // The same rule for names: an alias another key holds stays that key's.
  putAlias:
    "INSERT INTO signature_aliases (alias, algo, id, key_id) VALUES (?, ?, ?, ?) " +
    "ON CONFLICT (alias, algo) DO UPDATE SET id = excluded.id WHERE signature_aliases.key_id IS excluded.key_id",
  // By id first, then by alias; `via` orders the two so an id always wins.
  getSig:
    "SELECT 0 AS via, id, algo, text, signature, address, key_id FROM signatures WHERE id = @id AND algo = @algo " +
    "UNION ALL SELECT 1 AS via, s.id, s.algo, s.text, s.signature, s.address, s.key_id FROM signature_aliases a " +
    "JOIN signatures s ON s.id = a.id AND s.algo = a.algo WHERE a.alias = @id AND a.algo = @algo ORDER BY via LIMIT 1",
} as const;
