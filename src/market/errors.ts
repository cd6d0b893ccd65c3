import { CloisterError } from "../errors.js";

/**
 * The node's side of the market: permits it is handed, receipts it signs, registration and
 * settlement. `code` is stable (docs/protocol.md "Paying a node").
 */
export class MarketError extends CloisterError {
  override readonly name: string = "MarketError";
}

export const MarketCode = {
  PAYMENT_REQUIRED: "PAYMENT_REQUIRED",
  PERMIT_INVALID: "PERMIT_INVALID",
  PERMIT_BAD_SIGNATURE: "PERMIT_BAD_SIGNATURE",
  PERMIT_NOT_FOR_NODE: "PERMIT_NOT_FOR_NODE",
  PERMIT_EXPIRED: "PERMIT_EXPIRED",
  PERMIT_EXHAUSTED: "PERMIT_EXHAUSTED",
  PERMIT_UNFUNDED: "PERMIT_UNFUNDED",
  MODEL_NOT_PRICED: "MODEL_NOT_PRICED",
  RECEIPT_INVALID: "RECEIPT_INVALID",
  RECEIPT_NOT_STORED: "RECEIPT_NOT_STORED",
  VERDICT_REFUSED: "VERDICT_REFUSED",
  VERIFIER_UNREACHABLE: "VERIFIER_UNREACHABLE",
  REGISTRATION_FAILED: "REGISTRATION_FAILED",
} as const;
