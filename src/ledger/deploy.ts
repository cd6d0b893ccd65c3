/**
 * Deploys the market's contracts in dependency order and wires them together. Used by
 * `cloister chain start` (local anvil) and by tests; production deployments use the same
 * function against any EVM JSON-RPC with a funded deployer key.
 */
import type { Abi, Account, Chain as ViemChain, PublicClient, Transport, WalletClient } from "viem";
import { AgentRequests, AutomataDcapAdapter, DataPool, Escrow, MeasurementPolicy, ModelRegistry, NodeRegistry, QuorumVerifier, TestToken } from "./contracts/artifacts.js";
import { LedgerError } from "./errors.js";
import type { EvmAddress, Hex32 } from "./typed-data.js";

export interface DeployOptions {
  /** Owner of every governed contract; defaults to the deployer. */
  readonly owner?: EvmAddress;
  /** Fixed forever: only a local or test registry should admit the simulator. */
  readonly allowSimulated: boolean;
  /** Measurement digests allowed from the start (later ones wait `policyDelaySeconds`). */
  readonly initialMeasurements?: readonly Hex32[];
  readonly policyDelaySeconds?: bigint;
  /** Verifier enclaves' addresses and the quorum size k. */
  readonly quorumMembers: readonly EvmAddress[];
  readonly quorumThreshold: bigint;
  readonly maxVerdictAgeSeconds?: bigint;
  /** Governed maximum life of a registration; default 7 days. */
  readonly maxValiditySeconds?: bigint;
  readonly withdrawDelaySeconds?: bigint;
  readonly treasury?: EvmAddress;
  /** An Automata DCAP attestation contract to admit through (optional). */
  readonly automataDcap?: EvmAddress;
  readonly automataCollateralWindowSeconds?: bigint;
  /** Also deploy the ERC-20 test token (local chains). */
  readonly testToken?: boolean;
}

export interface MarketAddresses {
  readonly policy: EvmAddress;
  readonly quorum: EvmAddress;
  readonly registry: EvmAddress;
  readonly escrow: EvmAddress;
  readonly agentRequests: EvmAddress;
  readonly automataAdapter: EvmAddress | null;
  readonly testToken: EvmAddress | null;
  /** Sealed models (#11): owners' registrations, revocations and key-release events. Absent in older market files. */
  readonly modelRegistry?: EvmAddress | null;
  /** Data contributions (#12): reward pools trusting this market's NodeRegistry. Absent in older market files. */
  readonly dataPool?: EvmAddress | null;
}

export const SEVEN_DAYS = 7n * 24n * 3600n;

type Wallet = WalletClient<Transport, ViemChain, Account>;

export async function deployContract(
  wallet: Wallet,
  client: PublicClient,
  artifact: { abi: Abi; bytecode: `0x${string}` },
  args: readonly unknown[],
): Promise<EvmAddress> {
  const hash = await wallet.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args, account: wallet.account, chain: wallet.chain });
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success" || !receipt.contractAddress) throw new LedgerError("DEPLOY_FAILED", "contract deployment reverted");
  return receipt.contractAddress.toLowerCase() as EvmAddress;
}

export async function deployMarket(wallet: Wallet, client: PublicClient, o: DeployOptions): Promise<MarketAddresses> {
  const owner = o.owner ?? (wallet.account.address.toLowerCase() as EvmAddress);
  const policy = await deployContract(wallet, client, MeasurementPolicy, [owner, o.policyDelaySeconds ?? 2n * 86400n, o.initialMeasurements ?? []]);
  const quorum = await deployContract(wallet, client, QuorumVerifier, [owner, o.quorumMembers, o.quorumThreshold, o.maxVerdictAgeSeconds ?? 3600n]);
  const registry = await deployContract(wallet, client, NodeRegistry, [owner, policy, o.allowSimulated, o.maxValiditySeconds ?? SEVEN_DAYS]);
  const escrow = await deployContract(wallet, client, Escrow, [owner, registry, o.withdrawDelaySeconds ?? 86400n, o.treasury ?? owner]);
  const agentRequests = await deployContract(wallet, client, AgentRequests, [registry]);
  let automataAdapter: EvmAddress | null = null;
  if (o.automataDcap) {
    automataAdapter = await deployContract(wallet, client, AutomataDcapAdapter, [o.automataDcap, o.automataCollateralWindowSeconds ?? 86400n]);
  }
  const testToken = o.testToken ? await deployContract(wallet, client, TestToken, []) : null;
  const modelRegistry = await deployContract(wallet, client, ModelRegistry, []);
  const dataPool = await deployContract(wallet, client, DataPool, [registry]);
  if (owner === wallet.account.address.toLowerCase()) {
    for (const v of [quorum, automataAdapter]) {
      if (!v) continue;
      const hash = await wallet.writeContract({ address: registry, abi: NodeRegistry.abi, functionName: "setVerifier", args: [v, true], account: wallet.account, chain: wallet.chain });
      await client.waitForTransactionReceipt({ hash });
    }
  }
  return { policy, quorum, registry, escrow, agentRequests, automataAdapter, testToken, modelRegistry, dataPool };
}
