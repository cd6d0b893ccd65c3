/**
 * `cloister up` follows a market when one is configured: --market FILE / CLOISTER_MARKET,
 * or DATA_DIR/market.json (written by `cloister chain start`), with --chain-rpc /
 * CLOISTER_CHAIN_RPC overriding its RPC URL. It then runs the registry indexer and serves
 * GET /v1/nodes from it. Without a market the node serves no directory (404 there).
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { resolveMarket, type ChainFlags } from "../../ledger/chain-config.js";
import { openMarketDirectory, type MarketDirectory } from "../../ledger/market-directory.js";
import { isCloisterError } from "../../errors.js";
import type { Logger } from "../../log/logger.js";

export async function startNodeMarketDirectory(o: {
  readonly flags?: ChainFlags;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly dataDir: string;
  readonly storeUrl?: string | undefined;
  readonly logger: Logger;
}): Promise<MarketDirectory | null> {
  const flags = o.flags ?? {};
  const file = flags.market ?? o.env["CLOISTER_MARKET"] ?? join(o.dataDir, "market.json");
  if (!existsSync(resolve(o.cwd, file))) return null;
  const market = resolveMarket(flags, o.env, o.cwd, o.dataDir);
  const dir = await openMarketDirectory({ market, dataDir: o.dataDir, storeUrl: o.storeUrl, env: o.env });
  const poll = Number(o.env["CLOISTER_INDEX_POLL_MS"] ?? 5000);
  // A chain that is down must not stop the node: the directory serves what it has and says how old it is (indexedBlock).
  dir.indexer.start(Number.isFinite(poll) && poll >= 100 ? poll : 5000, (err) => o.logger.warn("registry index sync failed", { code: isCloisterError(err) ? err.code : "UNKNOWN" }));
  return dir;
}
