/**
 * Which store a command opens: PostgreSQL when given a postgres:// URL (--store /
 * CLOISTER_STORE: several machines share keys, usage and signatures), else the
 * embedded SQLite file in the data dir (issue 3: the default). `pg` is loaded only
 * when asked for.
 */
import { resolveNodeId } from "./node-id.js";
import { ensurePrivateDir } from "./private-files.js";
import { openSqliteStore, storePath } from "./sqlite.js";
import type { Store } from "./store.js";

export interface OpenedStore extends Store {
  readonly interruptedAtOpen: number;
  /** Where it lives, for messages: the SQLite file, or the URL with its password hidden. */
  readonly where: string;
}

export interface NodeStoreOptions {
  readonly url: string | undefined;
  readonly dataDir: string;
  /** CLOISTER_NODE_ID; else the id kept in the data dir (./node-id.ts). */
  readonly nodeId?: string | undefined;
  /** Mark this node's in_flight rows interrupted (default true: `cloister up`); `cloister keys` passes false. */
  readonly recover?: boolean;
}

export async function openNodeStore(opts: NodeStoreOptions): Promise<OpenedStore & { readonly nodeId: string }> {
  // The data dir holds models, the node id and (SQLite) the store: private either way.
  ensurePrivateDir(opts.dataDir);
  const nodeId = resolveNodeId(opts.dataDir, opts.nodeId);
  const recover = opts.recover ?? true;
  if (opts.url) {
    const { openPostgresStore, redactPostgresUrl } = await import("./postgres.js");
    const store = await openPostgresStore({ url: opts.url, nodeId, recover });
    return Object.assign(store, { where: redactPostgresUrl(opts.url), nodeId });
  }
  const path = storePath(opts.dataDir);
  // A serving node commits on a writer thread (./sqlite-writer.ts), off the request path,
  // and makes in_flight rows kill-safe by its journal (./intent-journal.ts), not a commit each.
  return Object.assign(openSqliteStore({ path, nodeId, recover, writer: recover ? "worker" : "thread", journal: recover }), { where: path, nodeId });
}
