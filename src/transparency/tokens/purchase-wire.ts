/**
 * The JSON of POST /v1/tokens/buy (docs/protocol.md "Tokens through the escrow"): amounts
 * and counters as decimal strings, hashes and addresses as 0x hex, token messages as
 * base64url. Strict: anything else is TOKEN_ISSUE_FAILED, never a crash.
 */
import { z } from "zod";
import type { SignedPermit, SignedReceipt } from "../../ledger/chain.js";
import { modelId, type EvmAddress, type Hex32 } from "../../ledger/typed-data.js";
import { TransparencyCode, TransparencyError } from "../errors.js";

/** The escrow "model" a token batch is billed under: prompt tokens = tokens bought. */
export const TOKEN_MODEL: Hex32 = modelId("cloister/privacy-pass-token/v1");

const hex = (n?: number) => z.string().regex(n ? new RegExp(`^0x[0-9a-fA-F]{${n}}$`) : /^0x[0-9a-fA-F]+$/).transform((s) => s.toLowerCase() as Hex32);
const addr = z.string().regex(/^0x[0-9a-fA-F]{40}$/).transform((s) => s.toLowerCase() as EvmAddress);
const uint = z.string().regex(/^(0|[1-9][0-9]{0,77})$/).transform((s) => BigInt(s));
const b64u = z.string().regex(/^[A-Za-z0-9_-]+$/).max(2048);

const permitSchema = z
  .object({
    permit: z.object({ user: addr, node: addr, policy: hex(64), token: addr, maxAmount: uint, expiry: uint, nonce: uint }).strict(),
    signature: hex(),
    id: hex(64),
  })
  .strict();

export const buyRequestSchema = z.object({ permit: permitSchema, token_requests: z.array(b64u).min(1).max(100) }).strict();

export interface BuyRequest {
  readonly permit: SignedPermit;
  readonly tokenRequests: Uint8Array[];
}

export function parseBuyRequest(value: unknown): BuyRequest {
  const r = buyRequestSchema.safeParse(value);
  if (!r.success) throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, `token purchase: ${r.error.issues[0]?.path.join(".") ?? ""} ${r.error.issues[0]?.message ?? "invalid"}`);
  return { permit: r.data.permit, tokenRequests: r.data.token_requests.map((t) => new Uint8Array(Buffer.from(t, "base64url"))) };
}

const str = (v: bigint): string => v.toString(10);

export function buyRequestJson(permit: SignedPermit, requests: readonly Uint8Array[]): unknown {
  const p = permit.permit;
  return {
    permit: { permit: { user: p.user, node: p.node, policy: p.policy, token: p.token, maxAmount: str(p.maxAmount), expiry: str(p.expiry), nonce: str(p.nonce) }, signature: permit.signature, id: permit.id },
    token_requests: requests.map((r) => Buffer.from(r).toString("base64url")),
  };
}

export function receiptJson(r: SignedReceipt): unknown {
  const x = r.receipt;
  return {
    receipt: { ...x, promptTokens: str(x.promptTokens), completionTokens: str(x.completionTokens), cumulative: str(x.cumulative), seq: str(x.seq) },
    signature: r.signature,
  };
}

const receiptSchema = z
  .object({
    receipt: z
      .object({ permitId: hex(64), enclave: addr, model: hex(64), priceVersion: z.number().int().min(0), requestHash: hex(64), responseHash: hex(64), promptTokens: uint, completionTokens: uint, cumulative: uint, seq: uint })
      .strict(),
    signature: hex(),
  })
  .strict();

export function parseBuyResponse(value: unknown): { responses: Uint8Array[]; receipt: SignedReceipt } {
  const r = z.object({ token_responses: z.array(b64u), receipt: receiptSchema }).strict().safeParse(value);
  if (!r.success) throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, `token purchase answer: ${r.error.issues[0]?.path.join(".") ?? ""} ${r.error.issues[0]?.message ?? "invalid"}`);
  return { responses: r.data.token_responses.map((t) => new Uint8Array(Buffer.from(t, "base64url"))), receipt: r.data.receipt };
}
