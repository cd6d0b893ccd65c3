/**
 * The embedded default market: anvil from npm with the contracts deployed, for one user's
 * machine or a test. The registry admits the simulator (it is a local chain), and its
 * verifier quorum is a single key kept in the data dir: a local stand-in for attested
 * verifier enclaves, never for production. That member runs as an HTTP service in this
 * process (src/market/verifier-service.ts): it attests each node itself with src/attest
 * before it signs a verdict. Its measurement policy has no delay and admits the
 * measurements of SIMULATED nodes this member verified (a local chain has no governance
 * to wait for); a production policy is governed with a timelock (MeasurementPolicy.sol).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPublicClient, createWalletClient, defineChain, http, type PublicClient } from "viem";
import { DataPool, MeasurementPolicy } from "./contracts/artifacts.js";
import { startVerifierService, type VerifierService } from "../market/verifier-service.js";
import type { Verdict } from "./typed-data.js";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { ANVIL_KEYS, startAnvil, type Anvil } from "./anvil.js";
import { deployContract, deployMarket } from "./deploy.js";
import { readMarketFile, writeMarketFile, type MarketFile } from "./market-file.js";

export interface LocalChainOptions {
  readonly port?: number;
  readonly dataDir?: string;
  /** Run the local verifier member's HTTP service (default true). */
  readonly verifierService?: boolean;
}

export interface LocalChain {
  readonly anvil: Anvil;
  readonly market: MarketFile;
  /** The local verifier quorum's only member (threshold 1). */
  readonly verifier: PrivateKeyAccount;
  /** True when an existing deployment in the data dir was reused. */
  readonly reused: boolean;
  /** The local verifier member's service (null when not started). */
  readonly verifierService: VerifierService | null;
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
    const deployer = createWalletClient({ account: privateKeyToAccount(ANVIL_KEYS[0]), chain, transport: http(anvil.rpcUrl) });
    const withService = async (m: MarketFile, reused: boolean): Promise<LocalChain> => {
      let service: VerifierService | null = null;
      if (o.verifierService !== false) {
        // A verified simulated node's measurements become allowed at once (no delay on a local chain).
        const admit = async (v: Verdict): Promise<void> => {
          if (!v.simulated) return;
          const allowed = await client.readContract({ address: m.addresses.policy, abi: MeasurementPolicy.abi, functionName: "measurementAllowed", args: [v.measurementsDigest] });
          if (allowed) return;
          for (const functionName of ["proposeMeasurement", "activateMeasurement"] as const) {
            const hash = await deployer.writeContract({ address: m.addresses.policy, abi: MeasurementPolicy.abi, functionName, args: [v.measurementsDigest] });
            await client.waitForTransactionReceipt({ hash });
          }
        };
        service = await startVerifierService({
          member: verifier,
          quorum: { chainId: m.chainId, address: m.addresses.quorum },
          allowSimulated: true,
          chainTime: async () => (await client.getBlock()).timestamp,
          onSigned: admit,
        });
      }
      const market: MarketFile = { ...m, ...(service ? { verifierUrls: [service.url], quorumThreshold: 1 } : {}) };
      if (marketPath) writeMarketFile(marketPath, market);
      return {
        anvil,
        market,
        verifier,
        reused,
        verifierService: service,
        stop: async () => {
          await service?.close();
          await anvil.stop();
        },
      };
    };
    if (marketPath && existsSync(marketPath)) {
      const prev = readMarketFile(marketPath);
      const code = await client.getCode({ address: prev.addresses.registry });
      if (code && code !== "0x" && prev.chainId === anvil.chainId) {
        // A market kept from before DataPool was part of it gets one now (and market.json names it).
        const addresses = prev.addresses.dataPool ? prev.addresses : { ...prev.addresses, dataPool: await deployContract(deployer, client, DataPool, [prev.addresses.registry]) };
        return await withService({ ...prev, addresses, rpcUrl: anvil.rpcUrl }, true);
      }
    }
    const deployBlock = await client.getBlockNumber({ cacheTime: 0 });
    const addresses = await deployMarket(deployer, client, {
      allowSimulated: true,
      quorumMembers: [verifier.address],
      quorumThreshold: 1n,
      policyDelaySeconds: 0n,
      testToken: true,
    });
    return await withService({ version: 1, chainId: anvil.chainId, rpcUrl: anvil.rpcUrl, deployBlock, simulatedAllowed: true, addresses }, false);
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
