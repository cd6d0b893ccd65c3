/**
 * Stable ClientError codes: why the verifying client refused a node or a response.
 * They show in `cloister chat` output and in thrown errors; never rename, only add.
 */
export const ClientCode = {
  /** The attestation report could not be fetched (network, HTTP status). Nothing was sent. */
  ATTESTATION_UNAVAILABLE: "ATTESTATION_UNAVAILABLE",
  /** The report did not verify (quote, chain, TCB, policy, simulated...); details.attestCodes says which checks. */
  ATTESTATION_FAILED: "ATTESTATION_FAILED",
  /** The report answers another nonce than ours: a replayed (stale) report. */
  NONCE_MISMATCH: "NONCE_MISMATCH",
  /** The keys in the report are not the ones the quote binds, or the node answering is not the node attested. */
  REPORT_SWAPPED: "REPORT_SWAPPED",
  /** A response that must be signed came without a signature. */
  SIGNATURE_MISSING: "SIGNATURE_MISSING",
  /** The signature does not verify, or does not cover the bytes we sent and received. */
  SIGNATURE_INVALID: "SIGNATURE_INVALID",
  /** The response is signed by a key other than the pinned, attested one. */
  SIGNER_MISMATCH: "SIGNER_MISMATCH",
  /** A sealed response did not authenticate (altered bytes). */
  E2E_DECRYPT_FAILED: "E2E_DECRYPT_FAILED",
  /** A sealed response stream was cut short. */
  E2E_TRUNCATED: "E2E_TRUNCATED",
  /** A sealed response's framing is broken. */
  E2E_MALFORMED: "E2E_MALFORMED",
  /** We sealed the request but the success answer came back in the clear. */
  E2E_RESPONSE_UNSEALED: "E2E_RESPONSE_UNSEALED",
  /** The node refused our sealed request (details.nodeCode says why). */
  E2E_REJECTED: "E2E_REJECTED",
  /** The request is neither sealable nor a public read under the baseURL: refused before a byte left. */
  ROUTE_REFUSED: "ROUTE_REFUSED",
  /** The node (or something in front of it) answered with a redirect; never followed. */
  REDIRECT_REFUSED: "REDIRECT_REFUSED",
  /** A public answer (model list, report, health) does not have the shape it must have. */
  PUBLIC_ANSWER_INVALID: "PUBLIC_ANSWER_INVALID",
  /** The node's measurements differ from the ones pinned on first use (trust on first use): it runs other code. */
  MEASUREMENTS_CHANGED: "MEASUREMENTS_CHANGED",
  /** The release log showed a checkpoint that does not extend the last one this client kept (a fork or a rollback): the log lied to someone. */
  RELEASE_LOG_FORKED: "RELEASE_LOG_FORKED",
  /** Bad options (baseURL, policy file...). */
  INVALID_OPTIONS: "INVALID_OPTIONS",
  /** The node answered with an HTTP error (our own client only; the fetch passes these through). */
  API_ERROR: "API_ERROR",
  /** Discovery: the node list could not be read (chain or a node's /v1/nodes unreachable, or an HTTP error). */
  DISCOVERY_UNAVAILABLE: "DISCOVERY_UNAVAILABLE",
  /** Discovery: no listed node for the model could be attested and answered (details.tried says why each failed). */
  NO_NODE_AVAILABLE: "NO_NODE_AVAILABLE",
  /** Discovery: the node at a listed endpoint attested a signing key other than the enclave the registry lists there. */
  ENCLAVE_MISMATCH: "ENCLAVE_MISMATCH",
} as const;

export type ClientCode = (typeof ClientCode)[keyof typeof ClientCode];
