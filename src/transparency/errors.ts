import { CloisterError } from "../errors.js";

/** Stable codes of the transparency part (release log, receipt log, OHTTP, tokens). */
export const TransparencyCode = {
  PROOF_INVALID: "LOG_PROOF_INVALID",
  CONSISTENCY_INVALID: "LOG_CONSISTENCY_INVALID",
  LOG_FORKED: "LOG_FORKED",
  LOG_ROLLED_BACK: "LOG_ROLLED_BACK",
  CHECKPOINT_INVALID: "LOG_CHECKPOINT_INVALID",
  CHECKPOINT_SIGNATURE_INVALID: "LOG_CHECKPOINT_SIGNATURE_INVALID",
  NOTE_INVALID: "NOTE_INVALID",
  TILE_INVALID: "LOG_TILE_INVALID",
  ENTRY_INVALID: "LOG_ENTRY_INVALID",
  STATEMENT_INVALID: "RELEASE_STATEMENT_INVALID",
  STATEMENT_SIGNATURE_INVALID: "RELEASE_STATEMENT_SIGNATURE_INVALID",
  MEASUREMENT_NOT_RELEASED: "MEASUREMENT_NOT_RELEASED",
  LOG_UNREACHABLE: "LOG_UNREACHABLE",
  OHTTP_KEY_CONFIG_INVALID: "OHTTP_KEY_CONFIG_INVALID",
  OHTTP_DECAPSULATION_FAILED: "OHTTP_DECAPSULATION_FAILED",
  OHTTP_ENCODING_INVALID: "OHTTP_ENCODING_INVALID",
  TOKEN_INVALID: "TOKEN_INVALID",
  TOKEN_SPENT: "TOKEN_SPENT",
  TOKEN_ISSUER_UNKNOWN: "TOKEN_ISSUER_UNKNOWN",
  TOKEN_ISSUE_FAILED: "TOKEN_ISSUE_FAILED",
  /** The issuer's key is not published in the release log: it could be a key for one user. */
  TOKEN_ISSUER_UNPUBLISHED: "TOKEN_ISSUER_UNPUBLISHED",
  /** The release log publishes more issuer keys for one epoch than a wallet accepts. */
  TOKEN_ISSUER_KEYS_TOO_MANY: "TOKEN_ISSUER_KEYS_TOO_MANY",
} as const;
export type TransparencyCode = (typeof TransparencyCode)[keyof typeof TransparencyCode];

export class TransparencyError extends CloisterError {
  override readonly name: string = "TransparencyError";
  constructor(code: TransparencyCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
