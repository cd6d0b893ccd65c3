/**
 * The market's EIP-712 wire formats (docs/protocol.md "Market contracts"), one definition
 * for signers and verifiers. Each contract has its own domain
 * {name, version "1", chainId, verifyingContract}, so a signature for one contract or chain
 * never validates on another.
 */
import { keccak256, stringToBytes, type TypedDataDomain } from "viem";

export type Hex32 = `0x${string}`;
export type EvmAddress = `0x${string}`;

export const DOMAIN_NAMES = {
  registry: "Cloister NodeRegistry",
  quorum: "Cloister QuorumVerifier",
  escrow: "Cloister Escrow",
  agentRequests: "Cloister AgentRequests",
} as const;

export function domain(name: keyof typeof DOMAIN_NAMES, chainId: number, verifyingContract: EvmAddress): TypedDataDomain {
  return { name: DOMAIN_NAMES[name], version: "1", chainId, verifyingContract };
}

/** Model ids on chain: keccak256 of the model name exactly as the API serves it. */
export function modelId(name: string): Hex32 {
  return keccak256(stringToBytes(name));
}

export const PRICE_TYPE = [
  { name: "model", type: "bytes32" },
  { name: "promptPerMTok", type: "uint128" },
  { name: "completionPerMTok", type: "uint128" },
] as const;

export const REGISTRATION_TYPES = {
  Registration: [
    { name: "enclave", type: "address" },
    { name: "operator", type: "address" },
    { name: "payout", type: "address" },
    { name: "endpoint", type: "string" },
    { name: "region", type: "string" },
    { name: "latE6", type: "int32" },
    { name: "lonE6", type: "int32" },
    { name: "attestationDigest", type: "bytes32" },
    { name: "measurementsDigest", type: "bytes32" },
    { name: "gpuEvidenceDigest", type: "bytes32" },
    { name: "prices", type: "Price[]" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
  Price: PRICE_TYPE,
} as const;

export const VERDICT_TYPES = {
  Verdict: [
    { name: "enclave", type: "address" },
    { name: "attestationDigest", type: "bytes32" },
    { name: "measurementsDigest", type: "bytes32" },
    { name: "gpuEvidenceDigest", type: "bytes32" },
    { name: "tcbStatus", type: "uint8" },
    { name: "notAfter", type: "uint64" },
    { name: "simulated", type: "bool" },
    { name: "issuedAt", type: "uint64" },
  ],
} as const;

export const PERMIT_TYPES = {
  SpendPermit: [
    { name: "user", type: "address" },
    { name: "node", type: "address" },
    { name: "policy", type: "bytes32" },
    { name: "token", type: "address" },
    { name: "maxAmount", type: "uint256" },
    { name: "expiry", type: "uint64" },
    { name: "nonce", type: "uint64" },
  ],
} as const;

export const RECEIPT_TYPES = {
  Receipt: [
    { name: "permitId", type: "bytes32" },
    { name: "enclave", type: "address" },
    { name: "model", type: "bytes32" },
    { name: "priceVersion", type: "uint32" },
    { name: "requestHash", type: "bytes32" },
    { name: "responseHash", type: "bytes32" },
    { name: "promptTokens", type: "uint64" },
    { name: "completionTokens", type: "uint64" },
    { name: "cumulative", type: "uint256" },
    { name: "seq", type: "uint64" },
  ],
} as const;

export const RESULT_TYPES = {
  Result: [
    { name: "requestId", type: "uint256" },
    { name: "enclave", type: "address" },
    { name: "outputHash", type: "bytes32" },
    { name: "fee", type: "uint256" },
  ],
} as const;

export interface Price {
  readonly model: Hex32;
  readonly promptPerMTok: bigint;
  readonly completionPerMTok: bigint;
}

export interface Registration {
  readonly enclave: EvmAddress;
  readonly operator: EvmAddress;
  readonly payout: EvmAddress;
  readonly endpoint: string;
  readonly region: string;
  readonly latE6: number;
  readonly lonE6: number;
  readonly attestationDigest: Hex32;
  readonly measurementsDigest: Hex32;
  readonly gpuEvidenceDigest: Hex32;
  readonly prices: readonly Price[];
  readonly nonce: bigint;
  readonly deadline: bigint;
}

export interface Verdict {
  readonly enclave: EvmAddress;
  readonly attestationDigest: Hex32;
  readonly measurementsDigest: Hex32;
  readonly gpuEvidenceDigest: Hex32;
  readonly tcbStatus: number;
  readonly notAfter: bigint;
  readonly simulated: boolean;
  readonly issuedAt: bigint;
}

export interface SpendPermit {
  readonly user: EvmAddress;
  readonly node: EvmAddress;
  readonly policy: Hex32;
  readonly token: EvmAddress;
  readonly maxAmount: bigint;
  readonly expiry: bigint;
  readonly nonce: bigint;
}

export interface Receipt {
  readonly permitId: Hex32;
  readonly enclave: EvmAddress;
  readonly model: Hex32;
  readonly priceVersion: number;
  readonly requestHash: Hex32;
  readonly responseHash: Hex32;
  readonly promptTokens: bigint;
  readonly completionTokens: bigint;
  readonly cumulative: bigint;
  readonly seq: bigint;
}

export const ZERO_ADDRESS: EvmAddress = "0x0000000000000000000000000000000000000000";
export const ZERO_HASH: Hex32 = "0x0000000000000000000000000000000000000000000000000000000000000000";

/** What one request costs at a price: ceil((prompt·p + completion·c) / 1e6). */
export function requestCost(price: Price, promptTokens: bigint, completionTokens: bigint): bigint {
  const num = promptTokens * price.promptPerMTok + completionTokens * price.completionPerMTok;
  return (num + 999_999n) / 1_000_000n;
}

