/**
 * The embedded default market: anvil from npm with the contracts deployed, for one user's
 * machine or a test. The registry admits the simulator (it is a local chain), and its
 * verifier quorum is a single key kept in the data dir: a local stand-in for attested
 * verifier enclaves, never for production.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPublicClient, createWalletClient, defineChain, http, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { ANVIL_KEYS, startAnvil, type Anvil } from "./anvil.js";
import { deployMarket } from "./deploy.js";
import { readMarketFile, writeMarketFile, type MarketFile } from "./market-file.js";

export interface LocalChainOptions {
  readonly port?: number;
  readonly dataDir?: string;
}

export interface LocalChain {
  readonly anvil: Anvil;
  readonly market: MarketFile;
  /** The local verifier quorum's only member (threshold 1). */
  readonly verifier: PrivateKeyAccount;
  /** True when an existing deployment in the data dir was reused. */
  readonly reused: boolean;
  stop(): Promise<void>;
}

export async function startLocalChain(o: LocalChainOptions = {}): Promise<LocalChain> {
  if (o.dataDir) mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const anvil = await startAnvil({ ...(o.port !== undefined ? { port: o.port } : {}), ...(o.dataDir ? { dataDir: o.dataDir } : {}) });
  try {
    const chain = defineChain({ id: anvil.chainId, name: "anvil", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [anvil.rpcUrl] } } });
    const client = createPublicClient({ chain, transport: http(anvil.rpcUrl), pollingInterval: 50 }) as PublicClient;
    const verifier = privateKeyToAccount(loadOrCreateKey(o.dataDir));
    const marketPath = o.dataDir ? join(o.dataDir, "market.json") : null;
    if (marketPath && existsSync(marketPath)) {
      const prev = readMarketFile(marketPath);
      const code = await client.getCode({ address: prev.addresses.registry });
      if (code && code !== "0x" && prev.chainId === anvil.chainId) {
        const market = { ...prev, rpcUrl: anvil.rpcUrl };
        writeMarketFile(marketPath, market);
        return { anvil, market, verifier, reused: true, stop: () => anvil.stop() };
      }
    }
    const deployer = createWalletClient({ account: privateKeyToAccount(ANVIL_KEYS[0]), chain, transport: http(anvil.rpcUrl) });
    const deployBlock = await client.getBlockNumber();
    const addresses = await deployMarket(deployer, client, {
      allowSimulated: true,
      quorumMembers: [verifier.address],
      quorumThreshold: 1n,
      testToken: true,
    });
    const market: MarketFile = { version: 1, chainId: anvil.chainId, rpcUrl: anvil.rpcUrl, deployBlock, simulatedAllowed: true, addresses };
    if (marketPath) writeMarketFile(marketPath, market);
    return { anvil, market, verifier, reused: false, stop: () => anvil.stop() };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

function loadOrCreateKey(dataDir: string | undefined): `0x${string}` {
  if (!dataDir) return generatePrivateKey();
  const path = join(dataDir, "local-verifier.key");
  if (existsSync(path)) return readFileSync(path, "utf8").trim() as `0x${string}`;
  const key = generatePrivateKey();
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return key;
}
