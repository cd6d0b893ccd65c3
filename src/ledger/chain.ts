/**
 * The one interface the rest of Cloister uses to reach the market, whatever chain holds
 * it: the EVM contracts here (viem), NEAR later. Amounts are bigint in the token's
 * smallest unit; addresses 0x-prefixed lower-case. Every failure is a LedgerError.
 */
import type { MarketAddresses } from "./deploy.js";
import type { EvmAddress, Hex32, Price, Receipt, Registration, SpendPermit } from "./typed-data.js";

export interface TxResult {
  readonly hash: Hex32;
  readonly gasUsed: bigint;
  readonly blockNumber: bigint;
}

export interface NodeRecord {
  readonly enclave: EvmAddress;
  readonly operator: EvmAddress;
  readonly payout: EvmAddress;
  readonly endpoint: string;
  readonly region: string;
  readonly lat: number;
  readonly lon: number;
  readonly measurementsDigest: Hex32;
  readonly gpuEvidenceDigest: Hex32;
  readonly attestationDigest: Hex32;
  readonly tcbStatus: number;
  readonly simulated: boolean;
  /** Unix seconds; 0 once the node left or was invalidated. */
  readonly expiresAt: bigint;
  readonly priceVersion: number;
  readonly prices: readonly Price[];
}

export interface SignedPermit {
  readonly permit: SpendPermit;
  readonly signature: Hex32;
  readonly id: Hex32;
}

export interface SignedReceipt {
  readonly receipt: Receipt;
  readonly signature: Hex32;
}

export interface Settlement {
  readonly permit: SignedPermit;
  readonly receipt: SignedReceipt;
}

export interface Chain {
  readonly kind: "evm";
  readonly chainId: number;
  readonly addresses: MarketAddresses;
  /** The account this handle sends from, or null for a read-only handle. */
  readonly account: EvmAddress | null;

  register(reg: Registration, enclaveSignature: Hex32, verifier: EvmAddress, evidence: Hex32): Promise<TxResult>;
  getNode(enclave: EvmAddress): Promise<NodeRecord | null>;
  isActive(enclave: EvmAddress): Promise<boolean>;
  /** Every node whose registration events lie in [fromBlock, toBlock], latest record each. */
  nodeEvents(fromBlock: bigint, toBlock: bigint): Promise<NodeRecord[]>;
  blockNumber(): Promise<bigint>;
  /** The latest block's timestamp: expiry is judged by chain time, not the local clock. */
  chainTime(): Promise<bigint>;

  deposit(token: EvmAddress, amount: bigint): Promise<TxResult>;
  requestWithdraw(token: EvmAddress, amount: bigint): Promise<TxResult>;
  withdraw(token: EvmAddress): Promise<TxResult>;
  balance(user: EvmAddress, token: EvmAddress): Promise<bigint>;
  claimable(who: EvmAddress, token: EvmAddress): Promise<bigint>;
  claim(token: EvmAddress): Promise<TxResult>;
  signPermit(p: Omit<SpendPermit, "user">): Promise<SignedPermit>;
  settle(batch: readonly Settlement[]): Promise<TxResult>;
  stake(amount: bigint): Promise<TxResult>;
  /** The nonce the enclave's next registration statement must carry. */
  statementNonce(enclave: EvmAddress): Promise<bigint>;
  /** What the escrow already settled on a channel (permit, enclave, model). */
  channelState(permitId: Hex32, enclave: EvmAddress, model: Hex32): Promise<{ readonly settled: bigint; readonly lastSeq: bigint }>;
  /** Gas a settlement of this batch would use (simulated, nothing sent); refusals throw like settle. */
  estimateSettle(batch: readonly Settlement[]): Promise<bigint>;
}
