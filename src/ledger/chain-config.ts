/**
 * One resolver for the chain options every market command takes (flags > env > files):
 * --market FILE (CLOISTER_MARKET; default DATA_DIR/market.json), --chain-rpc URL
 * (CLOISTER_CHAIN_RPC; overrides the file's), and the sending key from
 * --chain-key-file FILE or CLOISTER_CHAIN_KEY (never a flag: argv is visible to `ps`).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { ConfigError } from "../errors.js";
import { readMarketFile, type MarketFile } from "./market-file.js";

export interface ChainFlags {
  readonly market?: string | undefined;
  readonly "chain-rpc"?: string | undefined;
  readonly "chain-key-file"?: string | undefined;
}

export const CHAIN_OPTIONS = {
  market: { type: "string" },
  "chain-rpc": { type: "string" },
  "chain-key-file": { type: "string" },
  "data-dir": { type: "string" },
} as const;

export const CHAIN_USAGE = `  --market FILE          the market's addresses (env CLOISTER_MARKET; default DATA_DIR/market.json)
  --chain-rpc URL        EVM JSON-RPC (env CLOISTER_CHAIN_RPC; default the market file's)
  --chain-key-file FILE  the sending account's private key (or env CLOISTER_CHAIN_KEY)
  --data-dir DIR         (env CLOISTER_DATA_DIR; default ~/.cloister)`;

export function resolveMarket(flags: ChainFlags, env: NodeJS.ProcessEnv, cwd: string, dataDir: string): MarketFile {
  const path = flags.market ?? env["CLOISTER_MARKET"] ?? join(dataDir, "market.json");
  const m = readMarketFile(resolve(cwd, path));
  const rpc = flags["chain-rpc"] ?? env["CLOISTER_CHAIN_RPC"];
  return rpc ? { ...m, rpcUrl: rpc } : m;
}

export function resolveAccount(flags: ChainFlags, env: NodeJS.ProcessEnv, cwd: string): PrivateKeyAccount | undefined {
  let key: string | undefined;
  if (flags["chain-key-file"]) {
    try {
      key = readFileSync(resolve(cwd, flags["chain-key-file"]), "utf8").trim();
    } catch {
      throw new ConfigError("CHAIN_KEY_UNREADABLE", `cannot read --chain-key-file ${flags["chain-key-file"]}`);
    }
  } else {
    key = env["CLOISTER_CHAIN_KEY"];
  }
  if (!key) return undefined;
  const hex = key.startsWith("0x") ? key : `0x${key}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new ConfigError("CHAIN_KEY_INVALID", "the chain key must be 32 bytes of hex");
  return privateKeyToAccount(hex as `0x${string}`);
}
