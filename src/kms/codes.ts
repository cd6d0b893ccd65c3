/**
 * Stable codes of the key broker (KmsError.code). Over HTTP they are the lower-case
 * `code` of an OpenAI-shaped error body, so a node or an owner learns exactly why a
 * broker refused. Never rename, only add.
 */
import { CloisterError, type ErrorDetails } from "../errors.js";

export const KmsCode = {
  /** The request body is not what the endpoint takes. */
  KMS_BAD_REQUEST: "KMS_BAD_REQUEST",
  /** No registration (or no share) for this model id at this broker. */
  KMS_MODEL_UNKNOWN: "KMS_MODEL_UNKNOWN",
  /** An owner-signed document does not verify, or names another owner than the model's. */
  KMS_SIGNATURE_INVALID: "KMS_SIGNATURE_INVALID",
  /** A registration older than (or as old as) the one the broker holds. */
  KMS_REGISTRATION_STALE: "KMS_REGISTRATION_STALE",
  /** The uploaded share does not open with this broker's key, or is not a share. */
  KMS_SHARE_INVALID: "KMS_SHARE_INVALID",
  /** The release names a nonce this broker never issued. */
  KMS_NONCE_UNKNOWN: "KMS_NONCE_UNKNOWN",
  /** The nonce was already used by an earlier release request (a replay). */
  KMS_NONCE_REPLAYED: "KMS_NONCE_REPLAYED",
  /** The nonce expired before the release request came (a stale request). */
  KMS_NONCE_EXPIRED: "KMS_NONCE_EXPIRED",
  /** The evidence answers another nonce than the one this request names. */
  KMS_EVIDENCE_NONCE_MISMATCH: "KMS_EVIDENCE_NONCE_MISMATCH",
  /** A measurement of the node is not in the owner's policy. */
  KMS_MEASUREMENT_NOT_ALLOWED: "KMS_MEASUREMENT_NOT_ALLOWED",
  /** The node runs on the simulator and the owner's policy does not allow it. */
  KMS_SIMULATED_NOT_ALLOWED: "KMS_SIMULATED_NOT_ALLOWED",
  /** The node's TCB status is not one the owner allows (or could not be checked and the policy requires it). */
  KMS_TCB_STATUS_NOT_ALLOWED: "KMS_TCB_STATUS_NOT_ALLOWED",
  /** The evidence did not verify for another reason (signature, chain, binding, GPU, policy). */
  KMS_EVIDENCE_INVALID: "KMS_EVIDENCE_INVALID",
  /** The owner revoked this node. */
  KMS_NODE_REVOKED: "KMS_NODE_REVOKED",
  /** Fewer brokers released a share than the threshold needs. */
  KMS_QUORUM_NOT_REACHED: "KMS_QUORUM_NOT_REACHED",
  /** The shares combined into a key that is not the registered one. */
  KMS_KEY_MISMATCH: "KMS_KEY_MISMATCH",
  /** A broker's answer (lease, signature, sealed share) does not check out. */
  KMS_RESPONSE_INVALID: "KMS_RESPONSE_INVALID",
  /** A broker could not be reached or attested. */
  KMS_BROKER_UNAVAILABLE: "KMS_BROKER_UNAVAILABLE",
  /** The broker's sealed state could not be read (wrong state key, or altered). */
  KMS_STATE_INVALID: "KMS_STATE_INVALID",
  /** The lease ran out without a renewal: the node must stop serving the model. */
  KMS_LEASE_EXPIRED: "KMS_LEASE_EXPIRED",
  /** The broker reads a chain and the model is not registered there (`cloister model register --chain`). */
  KMS_MODEL_NOT_ON_CHAIN: "KMS_MODEL_NOT_ON_CHAIN",
  /** The registration document held or offered is not the one whose digest (owner, sequence) is on chain now. */
  KMS_POLICY_DIGEST_MISMATCH: "KMS_POLICY_DIGEST_MISMATCH",
  /** The owner did not list this broker on chain, so it cannot log a release there (and releases none). */
  KMS_BROKER_NOT_LISTED: "KMS_BROKER_NOT_LISTED",
  /** The chain could not be read or written: the broker releases nothing it cannot check and log. */
  KMS_CHAIN_UNAVAILABLE: "KMS_CHAIN_UNAVAILABLE",
} as const;

export type KmsCode = (typeof KmsCode)[keyof typeof KmsCode];

/** Key broker failures; `status` is the HTTP status a broker answers with. */
export class KmsError extends CloisterError {
  override readonly name: string = "KmsError";
  readonly status: number;
  constructor(code: KmsCode, message: string, options?: { cause?: unknown; details?: ErrorDetails; status?: number }) {
    super(code, message, options);
    this.status = options?.status ?? defaultStatus(code);
  }
}

function defaultStatus(code: KmsCode): number {
  switch (code) {
    case KmsCode.KMS_BAD_REQUEST:
    case KmsCode.KMS_SHARE_INVALID:
      return 400;
    case KmsCode.KMS_MODEL_UNKNOWN:
      return 404;
    case KmsCode.KMS_REGISTRATION_STALE:
      return 409;
    case KmsCode.KMS_STATE_INVALID:
    case KmsCode.KMS_BROKER_UNAVAILABLE:
    case KmsCode.KMS_CHAIN_UNAVAILABLE:
      return 503;
    default:
      return 403;
  }
}
