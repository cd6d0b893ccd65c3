/** Test helpers for the escrow: permits, receipt chains and settlement calls. Not built. */
import { keccak256, stringToBytes, type LocalAccount, type TransactionReceipt } from "viem";
import { Escrow } from "./contracts/artifacts.js";
import { permitId, signPermit, signReceipt } from "./sign.js";
import type { TestMarket } from "./test-market.js";
import { MODEL } from "./test-market.js";
import { ZERO_ADDRESS, ZERO_HASH, type EvmAddress, type Hex32, type Receipt, type SpendPermit } from "./typed-data.js";

export interface SignedPermit {
  readonly permit: SpendPermit;
  readonly signature: Hex32;
  readonly id: Hex32;
}

export async function makePermit(m: TestMarket, user: LocalAccount, o: Partial<SpendPermit> & { node: EvmAddress }): Promise<SignedPermit> {
  const at = { chainId: m.chainId, address: m.addresses.escrow };
  const permit: SpendPermit = {
    user: user.address,
    policy: ZERO_HASH,
    token: ZERO_ADDRESS,
    maxAmount: 1_000_000n,
    expiry: (await m.now()) + 86400n,
    nonce: BigInt(Math.floor(Math.random() * 1e12)),
    ...o,
  };
  return { permit, signature: await signPermit(user, at, permit), id: permitId(at, permit) };
}

export async function makeReceipt(
  m: TestMarket,
  enclave: LocalAccount,
  p: SignedPermit,
  o: { seq: bigint; cumulative: bigint; model?: Hex32; tag?: string; signer?: LocalAccount },
): Promise<{ receipt: Receipt; signature: Hex32 }> {
  const receipt: Receipt = {
    permitId: p.id,
    enclave: enclave.address,
    model: o.model ?? MODEL,
    priceVersion: 1,
    requestHash: keccak256(stringToBytes(`req ${o.seq} ${o.tag ?? ""}`)),
    responseHash: keccak256(stringToBytes(`resp ${o.seq} ${o.tag ?? ""}`)),
    promptTokens: 10n,
    completionTokens: 20n,
    cumulative: o.cumulative,
    seq: o.seq,
  };
  return { receipt, signature: await signReceipt(o.signer ?? enclave, { chainId: m.chainId, address: m.addresses.escrow }, receipt) };
}

export function settlementArg(p: SignedPermit, r: { receipt: Receipt; signature: Hex32 }): {
  permit: SpendPermit;
  userSignature: Hex32;
  receipt: Receipt;
  enclaveSignature: Hex32;
} {
  return { permit: p.permit, userSignature: p.signature, receipt: r.receipt, enclaveSignature: r.signature };
}

export function settle(m: TestMarket, from: LocalAccount, p: SignedPermit, r: { receipt: Receipt; signature: Hex32 }): Promise<TransactionReceipt> {
  return m.send(from, m.addresses.escrow, Escrow.abi, "settle", [settlementArg(p, r)]);
}

export const claimable = (m: TestMarket, who: EvmAddress, token: EvmAddress = ZERO_ADDRESS): Promise<bigint> =>
  m.read<bigint>(m.addresses.escrow, Escrow.abi, "claimable", [who, token]);
export const balanceOf = (m: TestMarket, who: EvmAddress, token: EvmAddress = ZERO_ADDRESS): Promise<bigint> =>
  m.read<bigint>(m.addresses.escrow, Escrow.abi, "balanceOf", [who, token]);
