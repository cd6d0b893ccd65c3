/**
 * The node's registry indexer, as `cloister up` and `cloister nodes` run it: the market
 * file says which chain and registry; the final part is kept in DATA_DIR/market-index.sqlite,
 * or in PostgreSQL (`--store postgres://…`: the same database as the node's store, tables
 * market_index_*). Finality depth: CLOISTER_FINALITY_DEPTH, default 12 blocks on a remote
 * chain and 0 on the local development chain (anvil mines only what it is sent, no reorgs).
 */
import { join } from "node:path";
import { ConfigError } from "../errors.js";
import { openPostgresIndexStore } from "./index-store-postgres.js";
import { openSqliteIndexStore } from "./index-store-sqlite.js";
import type { IndexStore } from "./index-store.js";
import { createRegistryIndexer, type RegistryIndexer } from "./indexer.js";
import type { MarketFile } from "./market-file.js";
import { createEvmRegistryFeed } from "./registry-feed.js";

export interface MarketDirectoryOptions {
  readonly market: MarketFile;
  readonly dataDir: string;
  /** postgres://… to keep the index there; default SQLite in the data dir. */
  readonly storeUrl?: string | undefined;
  readonly finalityDepth?: number | undefined;
  readonly env?: NodeJS.ProcessEnv;
}

export interface MarketDirectory {
  readonly indexer: RegistryIndexer;
  readonly store: IndexStore;
  close(): Promise<void>;
}

export function finalityDepthFor(market: MarketFile, env: NodeJS.ProcessEnv = {}): number {
  const v = env["CLOISTER_FINALITY_DEPTH"];
  if (v !== undefined) {
    if (!/^\d{1,4}$/.test(v)) throw new ConfigError("INVALID_OPTION", "CLOISTER_FINALITY_DEPTH must be a whole number of blocks");
    return Number(v);
  }
  const local = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/.test(market.rpcUrl) && market.simulatedAllowed;
  return local ? 0 : 12;
}

/** Opens the index store and loads it; the caller syncs (`indexer.sync()`) or starts the loop. */
export async function openMarketDirectory(o: MarketDirectoryOptions): Promise<MarketDirectory> {
  const store = o.storeUrl ? await openPostgresIndexStore({ url: o.storeUrl }) : openSqliteIndexStore(join(o.dataDir, "market-index.sqlite"));
  const indexer = createRegistryIndexer({
    feed: createEvmRegistryFeed({ rpcUrl: o.market.rpcUrl, registry: o.market.addresses.registry, policy: o.market.addresses.policy }),
    store,
    registry: o.market.addresses.registry,
    fromBlock: o.market.deployBlock,
    finalityDepth: o.finalityDepth ?? finalityDepthFor(o.market, o.env),
  });
  try {
    await indexer.open();
  } catch (err) {
    await store.close();
    throw err;
  }
  return {
    indexer,
    store,
    close: async () => {
      await indexer.stop();
      await store.close();
    },
  };
}
