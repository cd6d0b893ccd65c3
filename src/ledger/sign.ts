/**
 * Signing and hashing of the market's EIP-712 messages with viem's audited
 * implementation (no home-made encoding): the user's spend permit, the enclave's
 * registration statement and usage receipts, the verifier quorum's verdict.
 */
import { encodeAbiParameters, hashTypedData, type LocalAccount } from "viem";
import {
  domain,
  PERMIT_TYPES,
  RECEIPT_TYPES,
  REGISTRATION_TYPES,
  RESULT_TYPES,
  VERDICT_TYPES,
  type EvmAddress,
  type Hex32,
  type Receipt,
  type Registration,
  type SpendPermit,
  type Verdict,
} from "./typed-data.js";

export interface Deployment {
  readonly chainId: number;
  readonly address: EvmAddress;
}

export function signRegistration(enclave: LocalAccount, at: Deployment, reg: Registration): Promise<Hex32> {
  return enclave.signTypedData({ domain: domain("registry", at.chainId, at.address), types: REGISTRATION_TYPES, primaryType: "Registration", message: { ...reg, prices: [...reg.prices] } });
}

export function permitId(at: Deployment, p: SpendPermit): Hex32 {
  return hashTypedData({ domain: domain("escrow", at.chainId, at.address), types: PERMIT_TYPES, primaryType: "SpendPermit", message: p });
}

export function signPermit(user: LocalAccount, at: Deployment, p: SpendPermit): Promise<Hex32> {
  return user.signTypedData({ domain: domain("escrow", at.chainId, at.address), types: PERMIT_TYPES, primaryType: "SpendPermit", message: p });
}

export function receiptDigest(at: Deployment, r: Receipt): Hex32 {
  return hashTypedData({ domain: domain("escrow", at.chainId, at.address), types: RECEIPT_TYPES, primaryType: "Receipt", message: r });
}

export function signReceipt(enclave: LocalAccount, at: Deployment, r: Receipt): Promise<Hex32> {
  return enclave.signTypedData({ domain: domain("escrow", at.chainId, at.address), types: RECEIPT_TYPES, primaryType: "Receipt", message: r });
}

export function signResult(
  enclave: LocalAccount,
  at: Deployment,
  m: { requestId: bigint; enclave: EvmAddress; outputHash: Hex32; fee: bigint },
): Promise<Hex32> {
  return enclave.signTypedData({ domain: domain("agentRequests", at.chainId, at.address), types: RESULT_TYPES, primaryType: "Result", message: m });
}

/**
 * The quorum's evidence: the verdict and its members' signatures, ordered by ascending
 * signer address (the contract counts each member once by requiring that order).
 */
export async function quorumEvidence(members: readonly LocalAccount[], at: Deployment, v: Verdict): Promise<Hex32> {
  const sorted = [...members].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  const sigs: Hex32[] = [];
  for (const m of sorted) {
    sigs.push(await m.signTypedData({ domain: domain("quorum", at.chainId, at.address), types: VERDICT_TYPES, primaryType: "Verdict", message: v }));
  }
  return encodeQuorumEvidence(v, sigs);
}

export function encodeQuorumEvidence(v: Verdict, sigs: readonly Hex32[]): Hex32 {
  return encodeAbiParameters(
    [
      {
        type: "tuple",
        components: VERDICT_TYPES.Verdict.map((f) => ({ name: f.name, type: f.type })),
      },
      { type: "bytes[]" },
    ],
    [v, sigs],
  );
}

/** Evidence for the Automata adapter: the raw quote and the report_data v1 preimage parts. */
export function automataEvidence(quote: Hex32, signer: EvmAddress, e2eKey: Hex32, tlsSpkiSha256: Hex32, gpuSha256: Hex32): Hex32 {
  return encodeAbiParameters(
    [{ type: "bytes" }, { type: "address" }, { type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }],
    [quote, signer, e2eKey, tlsSpkiSha256, gpuSha256],
  );
}
