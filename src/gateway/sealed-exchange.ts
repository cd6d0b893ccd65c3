/**
 * What the E2E layer and the signing layer share about one sealed exchange. The signature
 * of a sealed exchange is handed from signing to the sealed trailer in memory and never
 * stored: `GET /v1/signature/<id>` cannot serve in the clear what its two hashes would let
 * an observer check a guessed prompt against (docs/protocol.md, "Signatures under E2E").
 */
import type { Context } from "hono";
import type { SignedText } from "../seal/signing.js";

export interface SealedExchange {
  /** Set by the signing middleware once the plaintext response is signed. */
  signature: SignedText | null;
  /** The exchange's leaf index in the receipt log, sealed into the trailer beside the signature. */
  receiptIndex?: number;
  /** That leaf's salt (hex), sealed beside it: the clear receipt route does not serve it for a sealed exchange. */
  receiptSalt?: string;
  /** Set by the market's payment layer (src/market/payments.ts) once the receipt is durable. */
  marketReceipt?: unknown;
}

const VAR = "cloisterSealedExchange";

/** Marks the current request as sealed (E2E middleware, after it opened the request). */
export function markSealed(c: Context): SealedExchange {
  const x: SealedExchange = { signature: null };
  c.set(VAR as never, x as never);
  return x;
}

/** The sealed exchange of the current request, or undefined when it travelled plain. */
export function sealedExchange(c: Context): SealedExchange | undefined {
  const v: unknown = c.get(VAR as never);
  return typeof v === "object" && v !== null && "signature" in v ? (v as SealedExchange) : undefined;
}
