/**
 * The contribution receipt and the reward claim: EIP-712 typed messages signed by the
 * pipeline's attested enclave key (the node's ecdsa signer, whose address the
 * attestation report binds), so the contributor can check them against the address they
 * pinned, and an escrow contract can later check them with ecrecover.
 *
 * The receipt's domain is {name: "Cloister Data", version: "1"}. A reward claim is
 * signed for the chain and DataPool contract that pay the dataset's pool when the
 * pipeline is configured with one ({name, version, chainId, verifyingContract}, the
 * contract's own EIP-712 domain, so the claim cannot be paid on another chain or by
 * another contract); without one it is the receipt's domain: a checkable promise only.
 */
import { DataError } from "../../errors.js";
import type { Signer } from "../../seal/signing.js";
import { recoverDigestAddress } from "../../seal/signing.js";
import { toHex } from "../../util/bytes.js";
import { hashStruct, typedDataDigest, type TypedField, type TypedValue } from "./eip712.js";
import type { OnSigned } from "../../transparency/signed-hook.js";

export const DATA_DOMAIN = { name: "Cloister Data", version: "1" } as const;
const DOMAIN_FIELDS: readonly TypedField[] = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
];
const CHAIN_DOMAIN_FIELDS: readonly TypedField[] = [...DOMAIN_FIELDS, { name: "chainId", type: "uint256" }, { name: "verifyingContract", type: "address" }];

/** Where a claim is paid: the DataPool contract's EIP-712 domain. */
export interface ClaimDomain {
  readonly name: "Cloister Data";
  readonly version: "1";
  readonly chainId: number;
  /** 0x-prefixed DataPool address. */
  readonly verifyingContract: string;
}

export function poolDomain(chainId: number, verifyingContract: string): ClaimDomain {
  return { ...DATA_DOMAIN, chainId, verifyingContract: verifyingContract.toLowerCase() };
}

export const RECEIPT_FIELDS: readonly TypedField[] = [
  { name: "contributionId", type: "bytes32" },
  { name: "dataset", type: "string" },
  { name: "pipeline", type: "bytes32" },
  { name: "contributor", type: "bytes32" },
  { name: "receivedSha256", type: "bytes32" },
  { name: "keptSha256", type: "bytes32" },
  { name: "removedSha256", type: "bytes32" },
  { name: "recordsReceived", type: "uint32" },
  { name: "recordsKept", type: "uint32" },
  { name: "recordsRejected", type: "uint32" },
  { name: "recordsDuplicate", type: "uint32" },
  { name: "accepted", type: "bool" },
  { name: "issuedAt", type: "uint64" },
];

export const CLAIM_FIELDS: readonly TypedField[] = [
  { name: "contributionId", type: "bytes32" },
  { name: "dataset", type: "string" },
  { name: "pipeline", type: "bytes32" },
  { name: "contributor", type: "bytes32" },
  { name: "payoutCommitment", type: "bytes32" },
  { name: "units", type: "uint256" },
  { name: "issuedAt", type: "uint64" },
];

/** Every bytes32 is 0x-prefixed lower-case hex. */
export interface ContributionReceipt {
  readonly contributionId: string;
  readonly dataset: string;
  /** The pipeline measurement (measurement.ts) the contribution was cleaned under. */
  readonly pipeline: string;
  /** The contributor's pseudonym: HMAC-SHA256(pipeline key, dataset || contributor key). */
  readonly contributor: string;
  readonly receivedSha256: string;
  readonly keptSha256: string;
  /** SHA-256 of the canonical JSON of `removed` (counts by type), which travels beside. */
  readonly removedSha256: string;
  readonly recordsReceived: number;
  readonly recordsKept: number;
  readonly recordsRejected: number;
  readonly recordsDuplicate: number;
  readonly accepted: boolean;
  /** Unix seconds. */
  readonly issuedAt: number;
}

export interface RewardClaim {
  readonly contributionId: string;
  readonly dataset: string;
  /** The pipeline measurement, as in the receipt: a pool pays only claims cleaned under its measurement. */
  readonly pipeline: string;
  readonly contributor: string;
  /** keccak256(payout address || salt) chosen by the contributor: the address is never sent. */
  readonly payoutCommitment: string;
  /** What the dataset's terms pay for: records kept. */
  readonly units: string;
  readonly issuedAt: number;
}

export interface Signed<T> {
  readonly message: T;
  /** 0x + keccak256("\x19\x01" || domain || hashStruct(message)). */
  readonly digest: string;
  readonly signature: string;
  readonly signing_address: string;
  /** The claim's domain when it is payable on chain (absent: the receipt's domain). */
  readonly domain?: ClaimDomain;
}

function domainSeparator(domain?: ClaimDomain): Uint8Array {
  if (!domain) return hashStruct("EIP712Domain", DOMAIN_FIELDS, DATA_DOMAIN);
  return hashStruct("EIP712Domain", CHAIN_DOMAIN_FIELDS, domain as unknown as Record<string, TypedValue>);
}

export function receiptDigest(r: ContributionReceipt): Uint8Array {
  return typedDataDigest(domainSeparator(), hashStruct("ContributionReceipt", RECEIPT_FIELDS, r as unknown as Record<string, TypedValue>));
}

export function claimDigest(c: RewardClaim, domain?: ClaimDomain): Uint8Array {
  return typedDataDigest(domainSeparator(domain), hashStruct("RewardClaim", CLAIM_FIELDS, c as unknown as Record<string, TypedValue>));
}

function signWith<T>(signer: Signer, message: T, digest: Uint8Array): Signed<T> {
  if (!signer.signDigest) throw new DataError("RECEIPT_SIGNER", "receipts are signed with the node's ecdsa key");
  return { message, digest: `0x${toHex(digest)}`, signature: signer.signDigest(digest), signing_address: signer.address };
}

/** `onSigned` (src/transparency/signed-hook.ts) hears of the signed receipt: the node's receipt log. */
export function signReceipt(signer: Signer, r: ContributionReceipt, onSigned?: OnSigned): Signed<ContributionReceipt> {
  const s = signWith(signer, r, receiptDigest(r));
  onSigned?.({ kind: "data-contribution", id: r.contributionId, text: s.digest, signature: s.signature });
  return s;
}

export function signClaim(signer: Signer, c: RewardClaim, domain?: ClaimDomain): Signed<RewardClaim> {
  const s = signWith(signer, c, claimDigest(c, domain));
  return domain ? { ...s, domain } : s;
}

/** True only if the receipt's signature recovers to `expectedAddress` (the attested signer). */
export function verifyReceipt(s: Signed<ContributionReceipt>, expectedAddress: string): boolean {
  return verifyDigest(receiptDigest(s.message), s, expectedAddress);
}

export function verifyClaim(s: Signed<RewardClaim>, expectedAddress: string): boolean {
  try {
    return verifyDigest(claimDigest(s.message, s.domain), s, expectedAddress);
  } catch {
    return false;
  }
}

function verifyDigest(digest: Uint8Array, s: Signed<unknown>, expected: string): boolean {
  try {
    if (`0x${toHex(digest)}` !== s.digest.toLowerCase()) return false;
    return recoverDigestAddress(digest, s.signature.replace(/^0x/, "")) === expected.toLowerCase();
  } catch {
    return false;
  }
}
