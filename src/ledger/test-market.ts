/**
 * Test fixture: one real anvil per test file with the market deployed, funded accounts,
 * a 2-of-3 verifier quorum and helpers to register nodes. Never part of the build.
 */
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  keccak256,
  stringToBytes,
  type Abi,
  type Account,
  type Chain as ViemChain,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { ANVIL_KEYS, startAnvil, type Anvil } from "./anvil.js";
import { NodeRegistry } from "./contracts/artifacts.js";
import { deployMarket, type DeployOptions, type MarketAddresses } from "./deploy.js";
import { revertName, revertNameOfData } from "./revert.js";
import { sendContractCall } from "./send-call.js";
import { quorumEvidence, signRegistration } from "./sign.js";
import { modelId, ZERO_HASH, type EvmAddress, type Hex32, type Price, type Registration, type Verdict } from "./typed-data.js";

export const MEASUREMENTS: Hex32 = keccak256(stringToBytes("cloister test image v1"));
export const OTHER_MEASUREMENTS: Hex32 = keccak256(stringToBytes("some other image"));
export const MODEL = modelId("stories260K");

export type Wallet = WalletClient<Transport, ViemChain, Account>;

export interface TestMarket {
  readonly anvil: Anvil;
  readonly chainId: number;
  readonly client: PublicClient;
  readonly addresses: MarketAddresses;
  readonly accounts: {
    deployer: LocalAccount;
    operator: LocalAccount;
    operator2: LocalAccount;
    user: LocalAccount;
    user2: LocalAccount;
    modelOwner: LocalAccount;
    treasury: LocalAccount;
    relayer: LocalAccount;
  };
  readonly quorumMembers: readonly LocalAccount[];
  wallet(a: LocalAccount): Wallet;
  /** Sends a transaction (after viem's simulation, so reverts throw decoded) and waits for it. */
  send(from: LocalAccount, address: EvmAddress, abi: Abi, functionName: string, args: readonly unknown[], value?: bigint): Promise<TransactionReceipt>;
  read<T>(address: EvmAddress, abi: Abi, functionName: string, args: readonly unknown[]): Promise<T>;
  now(): Promise<bigint>;
  advance(seconds: number): Promise<void>;
  snapshot(): Promise<Hex32>;
  revertTo(id: Hex32): Promise<void>;
  registerNode(o?: RegisterOptions): Promise<RegisteredNode>;
  stop(): Promise<void>;
}

export interface RegisterOptions {
  readonly enclave?: LocalAccount;
  readonly operator?: LocalAccount;
  readonly payout?: EvmAddress;
  readonly endpoint?: string;
  readonly latE6?: number;
  readonly lonE6?: number;
  readonly prices?: readonly Price[];
  readonly verdict?: Partial<Verdict>;
  /** Signs the registration with this key instead of the enclave's. */
  readonly statementSigner?: LocalAccount;
  /** Quorum members who sign the verdict (default: the first two). */
  readonly signers?: readonly LocalAccount[];
  readonly nonce?: bigint;
}

export interface RegisteredNode {
  readonly enclave: LocalAccount;
  readonly operator: LocalAccount;
  readonly registration: Registration;
  readonly receipt: TransactionReceipt;
}

export const DEFAULT_PRICE: Price = { model: MODEL, promptPerMTok: 1_000_000n, completionPerMTok: 2_000_000n };

export async function startTestMarket(deploy: Partial<DeployOptions> = {}): Promise<TestMarket> {
  const anvil = await startAnvil();
  const chain = { ...foundry, id: anvil.chainId };
  const transport = http(anvil.rpcUrl);
  const client = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient;
  const testClient = createTestClient({ chain, transport, mode: "anvil" });
  const acc = ANVIL_KEYS.map((k) => privateKeyToAccount(k));
  const [deployer, operator, operator2, user, user2, modelOwner, treasury, relayer] = acc as [LocalAccount, LocalAccount, LocalAccount, LocalAccount, LocalAccount, LocalAccount, LocalAccount, LocalAccount];
  const wallets = new Map<string, Wallet>();
  const wallet = (a: LocalAccount): Wallet => {
    let w = wallets.get(a.address);
    if (!w) {
      w = createWalletClient({ account: a, chain, transport });
      wallets.set(a.address, w);
    }
    return w;
  };
  const quorumMembers = [0, 1, 2].map(() => privateKeyToAccount(generatePrivateKey()));
  const addresses = await deployMarket(wallet(deployer), client, {
    allowSimulated: true,
    initialMeasurements: [MEASUREMENTS],
    policyDelaySeconds: 3600n,
    quorumMembers: quorumMembers.map((m) => m.address),
    quorumThreshold: 2n,
    withdrawDelaySeconds: 3600n,
    treasury: treasury.address,
    testToken: true,
    ...deploy,
  });

  const send: TestMarket["send"] = async (from, address, abi, functionName, args, value) => {
    const r = await sendContractCall(client, wallet(from), { address, abi, functionName, args, ...(value ? { value } : {}) });
    if (r.status !== "success") throw new Error(`${functionName} reverted on chain (${await whyReverted(r.transactionHash, r)})`);
    return r;
  };
  // A call that simulated fine and then reverted when mined: say why (the custom error, or
  // the gas it ran out of), so a failure that only happens under load can be told apart.
  const whyReverted = async (hash: `0x${string}`, r: TransactionReceipt): Promise<string> => {
    const tx = await client.getTransaction({ hash }).catch(() => null);
    const gas = `gas used ${r.gasUsed} of ${tx?.gas ?? "?"}, block ${r.blockNumber}`;
    try {
      const trace = (await client.request({ method: "debug_traceTransaction" as never, params: [hash, { tracer: "callTracer" }] as never })) as { output?: string; error?: string };
      return `${revertNameOfData(trace.output) ?? trace.error ?? "no reason"}; ${gas}`;
    } catch {
      return gas;
    }
  };
  const read: TestMarket["read"] = async <T>(address: EvmAddress, abi: Abi, functionName: string, args: readonly unknown[]) =>
    (await client.readContract({ address, abi, functionName, args })) as T;
  const now = async (): Promise<bigint> => (await client.getBlock()).timestamp;
  const advance = async (seconds: number): Promise<void> => {
    await testClient.increaseTime({ seconds });
    await testClient.mine({ blocks: 1 });
  };

  const registerNode: TestMarket["registerNode"] = async (o = {}) => {
    const enclave = o.enclave ?? privateKeyToAccount(generatePrivateKey());
    const op = o.operator ?? operator;
    const t = await now();
    const attestationDigest = keccak256(stringToBytes(`evidence of ${enclave.address} at ${t}`));
    const verdict: Verdict = {
      enclave: enclave.address,
      attestationDigest,
      measurementsDigest: MEASUREMENTS,
      gpuEvidenceDigest: ZERO_HASH,
      tcbStatus: 0,
      notAfter: t + 30n * 86400n,
      simulated: true,
      issuedAt: t,
      ...o.verdict,
    };
    const nonce = o.nonce ?? (await read<bigint>(addresses.registry, NodeRegistry.abi, "statementNonce", [enclave.address]));
    const registration: Registration = {
      enclave: enclave.address,
      operator: op.address,
      payout: o.payout ?? op.address,
      endpoint: o.endpoint ?? "https://node.example:8443",
      region: "eu-west",
      latE6: o.latE6 ?? 48_856_600,
      lonE6: o.lonE6 ?? 2_352_200,
      attestationDigest: verdict.attestationDigest,
      measurementsDigest: verdict.measurementsDigest,
      gpuEvidenceDigest: verdict.gpuEvidenceDigest,
      prices: o.prices ?? [DEFAULT_PRICE],
      nonce,
      deadline: t + 3600n,
    };
    const at = { chainId: anvil.chainId, address: addresses.registry };
    const sig = await signRegistration(o.statementSigner ?? enclave, at, registration);
    const evidence = await quorumEvidence(o.signers ?? quorumMembers.slice(0, 2), { chainId: anvil.chainId, address: addresses.quorum }, verdict);
    const receipt = await send(op, addresses.registry, NodeRegistry.abi, "register", [{ ...registration, prices: [...registration.prices] }, sig, addresses.quorum, evidence]);
    return { enclave, operator: op, registration, receipt };
  };

  return {
    anvil,
    chainId: anvil.chainId,
    client,
    addresses,
    accounts: { deployer, operator, operator2, user, user2, modelOwner, treasury, relayer },
    quorumMembers,
    wallet,
    send,
    read,
    now,
    advance,
    snapshot: async () => (await testClient.snapshot()) as Hex32,
    revertTo: async (id) => {
      await testClient.revert({ id });
    },
    registerNode,
    stop: () => anvil.stop(),
  };
}

export async function expectRevert(p: Promise<unknown>, errorName: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    const name = revertName(err);
    if (name === errorName) return;
    throw new Error(`expected revert ${errorName}, got ${name ?? String(err).slice(0, 400)}`);
  }
  throw new Error(`expected revert ${errorName}, but the call succeeded`);
}
