/**
 * The market's HTTP wire forms (docs/protocol.md "Paying a node"): the user's signed spend
 * permit as a request header, and the node's enclave-signed receipt as the response's
 * header or sealed trailer. JSON with amounts as decimal strings (JSON has no bigint),
 * base64url in a header. Parsed with zod at the boundary; anything else is refused.
 */
import { z } from "zod";
import { fromBase64Url, toBase64Url } from "../seal/e2e/headers.js";
import { utf8 } from "../util/bytes.js";
import type { SignedPermit, SignedReceipt } from "../ledger/chain.js";
import { permitId, type Deployment } from "../ledger/sign.js";
import type { EvmAddress, Hex32 } from "../ledger/typed-data.js";
import { MarketError } from "./errors.js";

/** The permit, plain requests only: under E2E it travels sealed (X-Cloister-E2E-Permit). */
export const PERMIT_HEADER = "x-cloister-permit";
/** The receipt of a plain non-stream answer (streams and sealed answers: docs/protocol.md). */
export const MARKET_RECEIPT_HEADER = "x-cloister-market-receipt";
/** Field of the sealed trailers (E2E) that carries the receipt. */
export const MARKET_RECEIPT_TRAILER = "market_receipt";

const addr = z.string().regex(/^0x[0-9a-fA-F]{40}$/).transform((s) => s.toLowerCase() as EvmAddress);
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/).transform((s) => s.toLowerCase() as Hex32);
const sig = z.string().regex(/^0x[0-9a-fA-F]{130}$/).transform((s) => s.toLowerCase() as Hex32);
const uint = (max: bigint) =>
  z.string().regex(/^[0-9]{1,78}$/).transform((s, ctx) => {
    const v = BigInt(s);
    if (v > max) ctx.addIssue({ code: "custom", message: "out of range" });
    return v;
  });
const U64 = (1n << 64n) - 1n;
const U256 = (1n << 256n) - 1n;

const permitSchema = z
  .object({
    user: addr,
    node: addr,
    policy: hex32,
    token: addr,
    maxAmount: uint(U256),
    expiry: uint(U64),
    nonce: uint(U64),
    signature: sig,
  })
  .strict();

const receiptSchema = z
  .object({
    permitId: hex32,
    enclave: addr,
    model: hex32,
    priceVersion: z.number().int().min(0).max(0xffffffff),
    requestHash: hex32,
    responseHash: hex32,
    promptTokens: uint(U64),
    completionTokens: uint(U64),
    cumulative: uint(U256),
    seq: uint(U64),
    signature: sig,
  })
  .strict();

export function encodePermitHeader(p: SignedPermit): string {
  const x = p.permit;
  const json = { user: x.user, node: x.node, policy: x.policy, token: x.token, maxAmount: x.maxAmount.toString(), expiry: x.expiry.toString(), nonce: x.nonce.toString(), signature: p.signature };
  return toBase64Url(utf8.encode(JSON.stringify(json)));
}

/** Decodes the header; the id is computed here for this escrow (never taken from the sender). */
export function decodePermitHeader(value: string, escrow: Deployment): SignedPermit {
  if (value.length > 2048) throw new MarketError("PERMIT_INVALID", `${PERMIT_HEADER} is too long`);
  const bytes = fromBase64Url(value);
  if (!bytes) throw new MarketError("PERMIT_INVALID", `${PERMIT_HEADER} is not base64url`);
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch {
    throw new MarketError("PERMIT_INVALID", `${PERMIT_HEADER} is not JSON`);
  }
  const r = permitSchema.safeParse(json);
  if (!r.success) throw new MarketError("PERMIT_INVALID", `${PERMIT_HEADER}: ${r.error.issues[0]?.path.join(".") ?? ""} ${r.error.issues[0]?.message ?? "invalid"}`);
  const { signature, ...permit } = r.data;
  return { permit, signature, id: permitId(escrow, permit) };
}

export interface ReceiptWire {
  readonly permitId: string;
  readonly enclave: string;
  readonly model: string;
  readonly priceVersion: number;
  readonly requestHash: string;
  readonly responseHash: string;
  readonly promptTokens: string;
  readonly completionTokens: string;
  readonly cumulative: string;
  readonly seq: string;
  readonly signature: string;
}

export function receiptToWire(s: SignedReceipt): ReceiptWire {
  const r = s.receipt;
  return {
    permitId: r.permitId,
    enclave: r.enclave,
    model: r.model,
    priceVersion: r.priceVersion,
    requestHash: r.requestHash,
    responseHash: r.responseHash,
    promptTokens: r.promptTokens.toString(),
    completionTokens: r.completionTokens.toString(),
    cumulative: r.cumulative.toString(),
    seq: r.seq.toString(),
    signature: s.signature,
  };
}

export function receiptFromWire(json: unknown): SignedReceipt {
  const r = receiptSchema.safeParse(json);
  if (!r.success) throw new MarketError("RECEIPT_INVALID", `receipt: ${r.error.issues[0]?.path.join(".") ?? ""} ${r.error.issues[0]?.message ?? "invalid"}`);
  const { signature, ...receipt } = r.data;
  return { receipt, signature };
}
