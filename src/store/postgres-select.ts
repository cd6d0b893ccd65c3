/**
 * Which store a command opens: PostgreSQL when given a postgres:// URL (--store /
 * CLOISTER_STORE: several machines share keys, usage and signatures), else the
 * embedded SQLite file in the data dir (issue 3: the default). `pg` is loaded only
 * when asked for.
 */
import { openSqliteStore, storePath } from "./sqlite.js";
import type { Store } from "./store.js";

export interface OpenedStore extends Store {
  readonly interruptedAtOpen: number;
  /** Where it lives, for messages: the SQLite file, or the URL with its password hidden. */
  readonly where: string;
}

export async function openNodeStore(opts: { readonly url: string | undefined; readonly dataDir: string }): Promise<OpenedStore> {
  if (opts.url) {
    const { openPostgresStore, redactPostgresUrl } = await import("./postgres.js");
    const store = await openPostgresStore({ url: opts.url });
    return Object.assign(store, { where: redactPostgresUrl(opts.url) });
  }
  const path = storePath(opts.dataDir);
  return Object.assign(openSqliteStore({ path }), { where: path });
}
