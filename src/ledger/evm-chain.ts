/**
 * `Chain` on any EVM JSON-RPC, with viem. Sends are simulated first, so a revert surfaces
 * as a LedgerError naming the contract's custom error before any gas is spent.
 */
import {
  createPublicClient,
  createWalletClient,
  defineChain,
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
import type { Chain, NodeRecord, Settlement, SignedPermit, TxResult } from "./chain.js";
import { Escrow, NodeRegistry } from "./contracts/artifacts.js";
import type { MarketAddresses } from "./deploy.js";
import { LedgerError } from "./errors.js";
import { nodeFromRegistered } from "./registered-node.js";
import { revertName } from "./revert.js";
import { sendContractCall } from "./send-call.js";
import { permitId, signPermit } from "./sign.js";
import type { EvmAddress, Hex32, Price, Registration, SpendPermit } from "./typed-data.js";

export interface EvmChainOptions {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly addresses: MarketAddresses;
  /** Sends transactions and signs permits; omit for a read-only handle. */
  readonly account?: LocalAccount;
  /** Poll interval for receipts (ms). Default 100 (anvil mines at once). */
  readonly pollingIntervalMs?: number;
}

type Wallet = WalletClient<Transport, ViemChain, Account>;

export function createEvmChain(o: EvmChainOptions): Chain {
  const chain = defineChain({ id: o.chainId, name: `cloister-${o.chainId}`, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [o.rpcUrl] } } });
  const transport = http(o.rpcUrl, { retryCount: 1 });
  const client = createPublicClient({ chain, transport, pollingInterval: o.pollingIntervalMs ?? 100 }) as PublicClient;
  const wallet: Wallet | null = o.account ? createWalletClient({ account: o.account, chain, transport }) : null;
  const a = o.addresses;

  const send = async (address: EvmAddress, abi: Abi, functionName: string, args: readonly unknown[], value?: bigint): Promise<TxResult> => {
    if (!wallet || !o.account) throw new LedgerError("NO_ACCOUNT", "this chain handle has no account to send from (--chain-key / CLOISTER_CHAIN_KEY)");
    try {
      const r = await sendContractCall(client, wallet, { address, abi, functionName, args, ...(value ? { value } : {}) });
      const hash = r.transactionHash;
      if (r.status !== "success") throw new LedgerError("CHAIN_REVERTED", `${functionName} reverted on chain`, { details: { hash } });
      return { hash, gasUsed: r.gasUsed, blockNumber: r.blockNumber };
    } catch (err) {
      throw toLedgerError(err, functionName);
    }
  };
  const read = async <T>(address: EvmAddress, abi: Abi, functionName: string, args: readonly unknown[]): Promise<T> => {
    try {
      return (await client.readContract({ address, abi, functionName, args })) as T;
    } catch (err) {
      throw toLedgerError(err, functionName);
    }
  };
  const escrowAt = { chainId: o.chainId, address: a.escrow };

  return {
    kind: "evm",
    chainId: o.chainId,
    addresses: a,
    account: o.account ? (o.account.address.toLowerCase() as EvmAddress) : null,

    register: (reg: Registration, sig: Hex32, verifier: EvmAddress, evidence: Hex32) =>
      send(a.registry, NodeRegistry.abi, "register", [{ ...reg, prices: [...reg.prices] }, sig, verifier, evidence]),
    getNode: async (enclave) => {
      const n = await read<RawNode>(a.registry, NodeRegistry.abi, "getNode", [enclave]);
      if (n.operator === "0x0000000000000000000000000000000000000000") return null;
      const prices = await pricesAt(client, a.registry, enclave, n.priceVersion);
      return toRecord(enclave, n, prices);
    },
    isActive: (enclave) => read<boolean>(a.registry, NodeRegistry.abi, "isActive", [enclave]),
    nodeEvents: async (fromBlock, toBlock) => {
      const logs = await client.getLogs({ address: a.registry, fromBlock, toBlock });
      const events = parseEventLogs({ abi: NodeRegistry.abi, logs });
      const latest = new Map<string, NodeRecord>();
      const prices = new Map<string, readonly Price[]>();
      for (const e of events) {
        if (e.eventName === "PricesSet") prices.set(`${e.args.enclave.toLowerCase()}:${e.args.version}`, e.args.prices);
        if (e.eventName === "NodeRegistered") {
          const x = e.args;
          const enclave = x.enclave.toLowerCase() as EvmAddress;
          latest.set(enclave, {
            ...nodeFromRegistered(x),
            prices: prices.get(`${enclave}:${x.priceVersion}`) ?? latest.get(enclave)?.prices ?? [],
          });
        }
        if (e.eventName === "NodeLeft" || e.eventName === "NodeInvalidated") {
          const enclave = e.args.enclave.toLowerCase();
          const prev = latest.get(enclave);
          if (prev) latest.set(enclave, { ...prev, expiresAt: 0n });
        }
      }
      return [...latest.values()];
    },
    blockNumber: () => client.getBlockNumber({ cacheTime: 0 }), // viem caches it for pollingInterval otherwise
    chainTime: async () => (await client.getBlock()).timestamp,

    deposit: (token, amount) =>
      token === "0x0000000000000000000000000000000000000000"
        ? send(a.escrow, Escrow.abi, "depositNative", [], amount)
        : send(a.escrow, Escrow.abi, "deposit", [token, amount]),
    requestWithdraw: (token, amount) => send(a.escrow, Escrow.abi, "requestWithdraw", [token, amount]),
    withdraw: (token) => send(a.escrow, Escrow.abi, "withdraw", [token]),
    balance: (user, token) => read<bigint>(a.escrow, Escrow.abi, "balanceOf", [user, token]),
    claimable: (who, token) => read<bigint>(a.escrow, Escrow.abi, "claimable", [who, token]),
    claim: (token) => send(a.escrow, Escrow.abi, "claim", [token]),
    signPermit: async (p): Promise<SignedPermit> => {
      if (!o.account) throw new LedgerError("NO_ACCOUNT", "signing a permit needs the user's key");
      const permit: SpendPermit = { ...p, user: o.account.address.toLowerCase() as EvmAddress };
      return { permit, signature: await signPermit(o.account, escrowAt, permit), id: permitId(escrowAt, permit) };
    },
    settle: (batch: readonly Settlement[]) => send(a.escrow, Escrow.abi, "settleBatch", [batch.map(settlementArg)]),
    stake: (amount) => send(a.escrow, Escrow.abi, "stake", [], amount),
    statementNonce: (enclave) => read<bigint>(a.registry, NodeRegistry.abi, "statementNonce", [enclave]),
    channelState: async (permitId, enclave, model) => {
      const id = await read<Hex32>(a.escrow, Escrow.abi, "channelId", [permitId, enclave, model]);
      const [settled, lastSeq] = await read<readonly [bigint, bigint]>(a.escrow, Escrow.abi, "channels", [id]);
      return { settled, lastSeq };
    },
    estimateSettle: async (batch) => {
      if (!o.account) throw new LedgerError("NO_ACCOUNT", "estimating a settlement needs an account");
      try {
        return await client.estimateContractGas({ account: o.account, address: a.escrow, abi: Escrow.abi, functionName: "settleBatch", args: [batch.map(settlementArg)] });
      } catch (err) {
        throw toLedgerError(err, "settleBatch");
      }
    },
  };
}

function settlementArg(s: Settlement): { permit: SpendPermit; userSignature: Hex32; receipt: Settlement["receipt"]["receipt"]; enclaveSignature: Hex32 } {
  return { permit: s.permit.permit, userSignature: s.permit.signature, receipt: s.receipt.receipt, enclaveSignature: s.receipt.signature };
}

interface RawNode {
  operator: EvmAddress;
  expiresAt: bigint;
  priceVersion: number;
  tcbStatus: number;
  simulated: boolean;
  payout: EvmAddress;
  latE6: number;
  lonE6: number;
  attestationDigest: Hex32;
  measurementsDigest: Hex32;
  gpuEvidenceDigest: Hex32;
  endpoint: string;
  region: string;
}

async function pricesAt(client: PublicClient, registry: EvmAddress, enclave: EvmAddress, version: number): Promise<readonly Price[]> {
  const logs = await client.getLogs({
    address: registry,
    event: NodeRegistry.abi.find((x) => x.type === "event" && x.name === "PricesSet") as Extract<(typeof NodeRegistry.abi)[number], { type: "event"; name: "PricesSet" }>,
    args: { enclave, version },
    fromBlock: 0n,
  });
  const last = logs.at(-1);
  return last?.args.prices ?? [];
}

function toRecord(enclave: EvmAddress, n: RawNode, prices: readonly Price[]): NodeRecord {
  return {
    enclave: enclave.toLowerCase() as EvmAddress,
    operator: n.operator.toLowerCase() as EvmAddress,
    payout: n.payout.toLowerCase() as EvmAddress,
    endpoint: n.endpoint,
    region: n.region,
    lat: n.latE6 / 1e6,
    lon: n.lonE6 / 1e6,
    measurementsDigest: n.measurementsDigest,
    gpuEvidenceDigest: n.gpuEvidenceDigest,
    attestationDigest: n.attestationDigest,
    tcbStatus: n.tcbStatus,
    simulated: n.simulated,
    expiresAt: n.expiresAt,
    priceVersion: n.priceVersion,
    prices,
  };
}

function toLedgerError(err: unknown, fn: string): LedgerError {
  if (err instanceof LedgerError) return err;
  const name = revertName(err);
  if (name) return new LedgerError("CHAIN_REVERTED", `${fn} was refused by the contract: ${name}`, { cause: err, details: { revert: name } });
  const msg = err instanceof Error ? err.message.split("\n")[0] : String(err);
  return new LedgerError("CHAIN_UNREACHABLE", `${fn}: ${msg}`, { cause: err });
}
