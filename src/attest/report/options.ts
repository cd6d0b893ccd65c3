import type { Nonce } from "../../types.js";
import type { Collateral } from "../intel/index.js";
import type { Policy } from "../policy/schema.js";
import type { UncheckedItem } from "../types.js";

export interface ReportVerifyOptions {
  /** The nonce the caller sent; without it a report cannot be told from a replay. */
  readonly nonce?: Nonce;
  readonly policy?: Policy;
  /** Where relative paths in the policy resolve. */
  readonly policyDir?: string;
  /** Accept evidence from the Cloister simulator (it proves nothing). */
  readonly allowSimulated?: boolean;
  /** Time for certificate and collateral validity; default now. */
  readonly now?: Date;
  /** Intel collateral for the quote: gives the TCB status. */
  readonly collateral?: Collateral;
  /** Fetches collateral for a quote when none was given (e.g. intel's fetchCollateral). */
  readonly fetchCollateral?: (quote: Uint8Array) => Promise<Collateral>;
  /**
   * Items that may stay unchecked without failing verification (TCB status, GPU RIMs, GPU
   * OCSP); joined with the policy's `acceptUnchecked`. Default none: unchecked fails.
   */
  readonly acceptUnchecked?: readonly UncheckedItem[];
}
