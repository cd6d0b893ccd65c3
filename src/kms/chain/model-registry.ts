/**
 * Sealed models on chain (contracts/ModelRegistry.sol, docs/protocol.md "Sealed models on
 * chain"): the owner's registration (hashes, price, royalty share, brokers, and the SHA-256
 * of the owner-signed registration document that carries the key-release policy), owner
 * revocations, and one KeyReleased event per release, signed (EIP-712) by the broker's
 * attested key and submitted by whoever pays the gas. viem does all encoding and hashing.
 */
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  hashTypedData,
  http,
  parseEventLogs,
  type Abi,
  type Account,
  type Chain as ViemChain,
  type LocalAccount,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { Escrow, ModelRegistry } from "../../ledger/contracts/artifacts.js";
import { LedgerError } from "../../ledger/errors.js";
import { revertName } from "../../ledger/revert.js";
import { sendContractCall } from "../../ledger/send-call.js";
import { modelId, type EvmAddress, type Hex32 } from "../../ledger/typed-data.js";
import type { MarketFile } from "../../ledger/market-file.js";

export const RELEASE_TYPES = {
  Release: [
    { name: "model", type: "bytes32" },
    { name: "node", type: "address" },
    { name: "sequence", type: "uint64" },
    { name: "policyDigest", type: "bytes32" },
    { name: "shareIndex", type: "uint8" },
    { name: "expiresAt", type: "uint64" },
    { name: "leaseHash", type: "bytes32" },
  ],
} as const;

export interface ChainRelease {
  readonly model: Hex32;
  readonly node: EvmAddress;
  readonly sequence: bigint;
  readonly policyDigest: Hex32;
  readonly shareIndex: number;
  readonly expiresAt: bigint;
  readonly leaseHash: Hex32;
}

export interface ChainTerms {
  readonly sealedSha256: Hex32;
  readonly plaintextSha256: Hex32;
  readonly policyDigest: Hex32;
  readonly sequence: bigint;
  readonly priceToken: EvmAddress;
  readonly pricePerMTok: bigint;
  readonly royaltyBps: number;
  readonly policyUri: string;
}

export interface OnChainModel {
  readonly owner: EvmAddress;
  readonly royaltyBps: number;
  readonly sequence: bigint;
  readonly priceToken: EvmAddress;
  readonly pricePerMTok: bigint;
  readonly sealedSha256: Hex32;
  readonly plaintextSha256: Hex32;
  readonly policyDigest: Hex32;
}

export interface KeyReleasedEvent extends ChainRelease {
  readonly broker: EvmAddress;
  readonly txHash: Hex32;
  readonly blockNumber: bigint;
}

export interface ModelChain {
  readonly chainId: number;
  readonly address: EvmAddress;
  model(name: string): Promise<OnChainModel | null>;
  isRevoked(name: string, node: string): Promise<boolean>;
  isBroker(name: string, broker: string): Promise<boolean>;
  releaseDigest(r: ChainRelease): Hex32;
  recordRelease(r: ChainRelease, brokerSignature: Hex32): Promise<Hex32>;
  register(name: string, t: ChainTerms, brokers: readonly EvmAddress[]): Promise<Hex32>;
  setRevoked(name: string, node: EvmAddress, revoked: boolean): Promise<Hex32>;
  setBroker(name: string, broker: EvmAddress, allowed: boolean): Promise<Hex32>;
  /** Escrow.setModel: the royalty recipient and share that settlement pays (recipient = the sender on first claim). */
  setEscrowModel(name: string, owner: EvmAddress, royaltyBps: number): Promise<Hex32>;
  releases(name: string, fromBlock?: bigint): Promise<KeyReleasedEvent[]>;
}

type Wallet = WalletClient<Transport, ViemChain, Account>;
const ZERO = "0x0000000000000000000000000000000000000000";

export function modelRegistryAddress(m: MarketFile): EvmAddress {
  const a = m.addresses.modelRegistry;
  if (!a) throw new LedgerError("MODEL_REGISTRY_MISSING", "this market file names no ModelRegistry (redeploy with `cloister chain start` from this version)");
  return a;
}

export function createModelChain(o: { market: MarketFile; account?: LocalAccount; pollingIntervalMs?: number }): ModelChain {
  const m = o.market;
  const address = modelRegistryAddress(m);
  const chain = defineChain({ id: m.chainId, name: `cloister-${m.chainId}`, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [m.rpcUrl] } } });
  const transport = http(m.rpcUrl, { retryCount: 1 });
  const client = createPublicClient({ chain, transport, pollingInterval: o.pollingIntervalMs ?? 100 }) as PublicClient;
  const wallet: Wallet | null = o.account ? createWalletClient({ account: o.account, chain, transport }) : null;
  const domain = { name: "Cloister ModelRegistry", version: "1", chainId: m.chainId, verifyingContract: address } as const;

  const send = async (to: EvmAddress, abi: typeof ModelRegistry.abi | typeof Escrow.abi, functionName: string, args: readonly unknown[]): Promise<Hex32> => {
    if (!wallet || !o.account) throw new LedgerError("NO_ACCOUNT", "this chain handle has no account to send from (--chain-key-file / CLOISTER_CHAIN_KEY)");
    try {
      const r = await sendContractCall(client, wallet, { address: to, abi: abi as Abi, functionName, args });
      const hash = r.transactionHash;
      if (r.status !== "success") throw new LedgerError("CHAIN_REVERTED", `${functionName} reverted on chain`, { details: { hash } });
      return hash;
    } catch (err) {
      throw toLedgerError(err, functionName);
    }
  };
  const read = async <T>(functionName: string, args: readonly unknown[]): Promise<T> => {
    try {
      return (await client.readContract({ address, abi: ModelRegistry.abi, functionName, args } as Parameters<PublicClient["readContract"]>[0])) as T;
    } catch (err) {
      throw toLedgerError(err, functionName);
    }
  };

  return {
    chainId: m.chainId,
    address,
    async model(name) {
      const r = await read<readonly [EvmAddress, number, bigint, EvmAddress, bigint, Hex32, Hex32, Hex32]>("models", [modelId(name)]);
      if (r[0] === ZERO) return null;
      return { owner: r[0].toLowerCase() as EvmAddress, royaltyBps: r[1], sequence: r[2], priceToken: r[3].toLowerCase() as EvmAddress, pricePerMTok: r[4], sealedSha256: r[5], plaintextSha256: r[6], policyDigest: r[7] };
    },
    isRevoked: (name, node) => read<boolean>("revoked", [modelId(name), node]),
    isBroker: (name, broker) => read<boolean>("isBroker", [modelId(name), broker]),
    releaseDigest: (r) => hashTypedData({ domain, types: RELEASE_TYPES, primaryType: "Release", message: r }),
    recordRelease: (r, sig) => send(address, ModelRegistry.abi, "recordRelease", [r, sig]),
    register: (name, t, brokers) => send(address, ModelRegistry.abi, "register", [name, t, brokers]),
    setRevoked: (name, node, revoked) => send(address, ModelRegistry.abi, "setRevoked", [modelId(name), node, revoked]),
    setBroker: (name, broker, allowed) => send(address, ModelRegistry.abi, "setBroker", [modelId(name), broker, allowed]),
    setEscrowModel: (name, owner, bps) => send(m.addresses.escrow, Escrow.abi, "setModel", [modelId(name), owner, bps]),
    async releases(name, fromBlock) {
      try {
        const logs = await client.getLogs({ address, fromBlock: fromBlock ?? m.deployBlock, toBlock: "latest" });
        const id = modelId(name);
        return parseEventLogs({ abi: ModelRegistry.abi, logs, eventName: "KeyReleased" })
          .filter((e) => e.args.model === id)
          .map((e) => ({
            model: e.args.model,
            broker: e.args.broker.toLowerCase() as EvmAddress,
            node: e.args.node.toLowerCase() as EvmAddress,
            sequence: e.args.sequence,
            policyDigest: e.args.policyDigest,
            shareIndex: e.args.shareIndex,
            expiresAt: e.args.expiresAt,
            leaseHash: e.args.leaseHash,
            txHash: e.transactionHash,
            blockNumber: e.blockNumber,
          }));
      } catch (err) {
        throw toLedgerError(err, "getLogs");
      }
    },
  };
}

function toLedgerError(err: unknown, fn: string): LedgerError {
  if (err instanceof LedgerError) return err;
  const name = revertName(err);
  if (name) return new LedgerError("CHAIN_REVERTED", `${fn} was refused by the contract: ${name}`, { cause: err, details: { revert: name } });
  const msg = err instanceof Error ? err.message.split("\n")[0] : String(err);
  return new LedgerError("CHAIN_UNREACHABLE", `${fn}: ${msg}`, { cause: err });
}

