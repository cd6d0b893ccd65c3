import { CloisterError } from "../errors.js";

/**
 * The chain, its contracts and their wire formats. `code` is stable; when a contract
 * reverted, `details.revert` names the Solidity custom error (e.g. "ReceiptOutOfOrder").
 */
export class LedgerError extends CloisterError {
  override readonly name: string = "LedgerError";
}
