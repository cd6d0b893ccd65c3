/**
 * Reward pools on chain (contracts/DataPool.sol): deploy, create, fund, claim, read.
 * A sponsor creates a pool for a dataset, bound either to the pipeline key they attested
 * (and its measurement) or to the NodeRegistry's active enclaves under a measurements
 * digest; a contributor claims with the enclave-signed reward claim from their receipt,
 * revealing the payout address and salt their commitment hides. Each pool has a claim
 * deadline (only ever extended); after it the sponsor withdraws what is left, once.
 * Reverts come back as DataError with code POOL_ + the contract's error name in
 * SNAKE_CASE (ClaimPeriodOver -> POOL_CLAIM_PERIOD_OVER).
 */
import {
  createPublicClient,
  createWalletClient,
  encodePacked,
  http,
  keccak256,
  type Abi,
  type Account,
  type Chain as ViemChain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { foundry } from "viem/chains";
import { DataError } from "../../errors.js";
import { DataPool, TestToken } from "../../ledger/contracts/artifacts.js";
import { deployContract } from "../../ledger/deploy.js";
import { revertName } from "../../ledger/revert.js";
import { sendContractCall } from "../../ledger/send-call.js";
import type { EvmAddress, Hex32 } from "../../ledger/typed-data.js";
import type { RewardClaim, Signed } from "../pipeline/receipt.js";

type Wallet = WalletClient<Transport, ViemChain, Account>;
const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000" as EvmAddress;
const ZERO_HASH = `0x${"00".repeat(32)}` as Hex32;
// A minimal ERC-20 ABI for approve/balanceOf (the test token's ABI has both).
const ERC20 = TestToken.abi;

export interface PoolClient {
  readonly chainId: number;
  readonly contract: EvmAddress;
  readonly public: PublicClient;
  readonly wallet: Wallet | null;
}

export function poolClient(o: { rpcUrl: string; chainId: number; contract: EvmAddress; account?: Account }): PoolClient {
  const chain = { ...foundry, id: o.chainId };
  const transport = http(o.rpcUrl);
  const pub = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient;
  const wallet = o.account ? (createWalletClient({ account: o.account, chain, transport }) as Wallet) : null;
  return { chainId: o.chainId, contract: o.contract.toLowerCase() as EvmAddress, public: pub, wallet };
}

/** keccak256(abi.encodePacked(payout, salt)): what the contributor sends instead of the address. */
export function payoutCommitment(payout: EvmAddress, salt: Hex32): Hex32 {
  return keccak256(encodePacked(["address", "bytes32"], [payout, salt]));
}

export async function deployDataPool(wallet: Wallet, client: PublicClient, registry: EvmAddress | null): Promise<EvmAddress> {
  return deployContract(wallet, client, DataPool, [registry ?? ZERO_ADDRESS]);
}

export interface CreatePoolOptions {
  readonly dataset: string;
  readonly token: EvmAddress;
  /** Token units paid per accepted record. */
  readonly rewardPerUnit: bigint;
  /** The data pipeline measurement (hex, with or without 0x). */
  readonly pipeline: string;
  /** The attested pipeline signing address to trust; omit to trust the registry. */
  readonly pipelineKey?: EvmAddress;
  /** Registry mode: the node measurements digest the enclave must be registered under. */
  readonly nodeMeasurements?: Hex32;
  /** Unix seconds: claims pay until then (inclusive); afterwards the sponsor may withdraw the rest. */
  readonly claimUntil: bigint;
}

export interface PoolInfo {
  readonly sponsor: EvmAddress;
  readonly token: EvmAddress;
  readonly rewardPerUnit: bigint;
  readonly balance: bigint;
  readonly pipeline: Hex32;
  readonly pipelineKey: EvmAddress;
  readonly nodeMeasurements: Hex32;
  /** Unix seconds; claims pay while the chain's time is at or before it. */
  readonly claimUntil: bigint;
  /** The sponsor withdrew the remainder: the pool is closed. */
  readonly withdrawn: boolean;
}

function needWallet(p: PoolClient): Wallet {
  if (!p.wallet) throw new DataError("POOL_NO_ACCOUNT", "this needs a sending account (--chain-key-file or CLOISTER_CHAIN_KEY)");
  return p.wallet;
}

const hex32 = (s: string): Hex32 => `0x${s.replace(/^0x/, "").toLowerCase()}` as Hex32;

async function send(p: PoolClient, address: EvmAddress, abi: typeof DataPool.abi | typeof ERC20, functionName: string, args: readonly unknown[]): Promise<Hex32> {
  const w = needWallet(p);
  try {
    const r = await sendContractCall(p.public, w, { address, abi: abi as Abi, functionName, args });
    const hash = r.transactionHash;
    if (r.status !== "success") throw new DataError("POOL_TX_FAILED", `${functionName} reverted on chain`);
    return hash;
  } catch (err) {
    if (err instanceof DataError) throw err;
    const name = revertName(err);
    throw new DataError(name ? `POOL_${name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase()}` : "POOL_TX_FAILED", `${functionName} refused${name ? `: ${name}` : ""}`);
  }
}

export async function poolIdOf(p: PoolClient, sponsor: EvmAddress, dataset: string): Promise<Hex32> {
  return (await p.public.readContract({ address: p.contract, abi: DataPool.abi, functionName: "poolIdOf", args: [sponsor, dataset] })) as Hex32;
}

export async function createPool(p: PoolClient, o: CreatePoolOptions): Promise<{ poolId: Hex32; tx: Hex32 }> {
  const w = needWallet(p);
  const tx = await send(p, p.contract, DataPool.abi, "createPool", [
    o.dataset, o.token, o.rewardPerUnit, hex32(o.pipeline), o.pipelineKey ?? ZERO_ADDRESS, o.nodeMeasurements ?? ZERO_HASH, o.claimUntil,
  ]);
  return { poolId: await poolIdOf(p, w.account.address.toLowerCase() as EvmAddress, o.dataset), tx };
}

/** Approves the pool contract for `amount` of the pool's token, then funds. */
export async function fundPool(p: PoolClient, poolId: Hex32, amount: bigint): Promise<{ tx: Hex32; balance: bigint }> {
  const info = await getPool(p, poolId);
  await send(p, info.token, ERC20, "approve", [p.contract, amount]);
  const tx = await send(p, p.contract, DataPool.abi, "fund", [poolId, amount]);
  return { tx, balance: (await getPool(p, poolId)).balance };
}

export async function getPool(p: PoolClient, poolId: Hex32): Promise<PoolInfo> {
  const r = await p.public.readContract({ address: p.contract, abi: DataPool.abi, functionName: "getPool", args: [poolId] });
  if (r.sponsor === ZERO_ADDRESS) throw new DataError("POOL_UNKNOWN", "no such pool");
  const a = (x: string): EvmAddress => x.toLowerCase() as EvmAddress;
  return {
    sponsor: a(r.sponsor), token: a(r.token), rewardPerUnit: r.rewardPerUnit, balance: r.balance, pipeline: r.pipeline, pipelineKey: a(r.pipelineKey),
    nodeMeasurements: r.nodeMeasurements, claimUntil: BigInt(r.claimUntil), withdrawn: r.withdrawn,
  };
}

/** Moves the claim deadline later (sponsor only; an earlier one is refused: POOL_DEADLINE_NOT_LATER). */
export async function extendClaimDeadline(p: PoolClient, poolId: Hex32, claimUntil: bigint): Promise<{ tx: Hex32 }> {
  return { tx: await send(p, p.contract, DataPool.abi, "extendClaimDeadline", [poolId, claimUntil]) };
}

/**
 * After the claim deadline, pays the sponsor what no claim took (once). Refused before the
 * deadline (POOL_CLAIM_PERIOD_OPEN), to anyone but the sponsor (POOL_NOT_SPONSOR), and a
 * second time (POOL_ALREADY_WITHDRAWN).
 */
export async function withdrawPool(p: PoolClient, poolId: Hex32): Promise<{ tx: Hex32; amount: bigint }> {
  const before = (await getPool(p, poolId)).balance;
  const tx = await send(p, p.contract, DataPool.abi, "withdraw", [poolId]);
  const after = await getPool(p, poolId);
  return { tx, amount: before - after.balance };
}

/** The chain's clock (the latest block's timestamp): what the contract compares deadlines with. */
export async function chainTime(p: PoolClient): Promise<bigint> {
  return (await p.public.getBlock({ blockTag: "latest" })).timestamp;
}

export async function isClaimed(p: PoolClient, contributionId: string): Promise<boolean> {
  return (await p.public.readContract({ address: p.contract, abi: DataPool.abi, functionName: "claimed", args: [hex32(contributionId)] })) as boolean;
}

/** The claim as the contract's struct. */
export function claimArg(c: RewardClaim): {
  contributionId: Hex32; dataset: string; pipeline: Hex32; contributor: Hex32; payoutCommitment: Hex32; units: bigint; issuedAt: bigint;
} {
  return {
    contributionId: hex32(c.contributionId),
    dataset: c.dataset,
    pipeline: hex32(c.pipeline),
    contributor: hex32(c.contributor),
    payoutCommitment: hex32(c.payoutCommitment),
    units: BigInt(c.units),
    issuedAt: BigInt(c.issuedAt),
  };
}

/**
 * Claims a reward. Refused before sending when the claim was signed for another chain or
 * contract (it could never pay here); the contract checks everything else.
 */
export async function claimReward(p: PoolClient, poolId: Hex32, claim: Signed<RewardClaim>, payout: EvmAddress, salt: Hex32): Promise<{ tx: Hex32; amount: bigint }> {
  const d = claim.domain;
  if (!d || d.chainId !== p.chainId || d.verifyingContract.toLowerCase() !== p.contract) {
    throw new DataError("POOL_WRONG_DOMAIN", "this claim is not payable by this pool contract (signed for another chain or contract)");
  }
  const before = (await getPool(p, poolId)).balance;
  const sig = `0x${claim.signature.replace(/^0x/, "")}` as `0x${string}`;
  const tx = await send(p, p.contract, DataPool.abi, "claim", [poolId, claimArg(claim.message), sig, payout, salt]);
  return { tx, amount: before - (await getPool(p, poolId)).balance };
}
