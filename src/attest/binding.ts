/**
 * report_data layout v1 (docs/protocol.md): one domain-separated hash binds every key
 * the node uses, and the GPU evidence, to the CPU quote; the client's nonce follows.
 *
 *   [0:32]  = SHA-256("cloister/report-data/v1" || signer || e2e_key || SHA-256(tls_spki | "") || SHA-256(gpu_payload | ""))
 *   [32:64] = nonce
 *
 * signer is the 20-byte Ethereum address for ecdsa, the 32-byte public key for ed25519.
 * The e2e key is 32 bytes (X25519), so the total length fixes the signer's length and the
 * concatenation is unambiguous. An absent TLS SPKI or GPU payload hashes the empty string.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { AttestationError } from "../errors.js";
import { concatBytes, equalBytes, utf8 } from "../util/bytes.js";
import { AttestCode } from "./codes.js";

export const REPORT_DATA_DOMAIN = "cloister/report-data/v1";

export interface BoundKeys {
  /** 20-byte address (ecdsa) or 32-byte public key (ed25519). */
  readonly signer: Uint8Array;
  /** 32-byte X25519 public key requests are sealed to. */
  readonly e2ePublicKey: Uint8Array;
  /** DER SubjectPublicKeyInfo of the enclave's TLS certificate, when TLS ends inside. */
  readonly tlsSpki?: Uint8Array | null;
  /** The exact `nvidia_payload` string of the report, when there is GPU evidence. */
  readonly gpuPayload?: string | null;
}

export function keyBindingHash(keys: BoundKeys): Uint8Array {
  if (keys.signer.length !== 20 && keys.signer.length !== 32) {
    throw new AttestationError(AttestCode.REPORT_DATA_MISMATCH, "signer must be a 20-byte address or a 32-byte ed25519 key");
  }
  if (keys.e2ePublicKey.length !== 32) {
    throw new AttestationError(AttestCode.REPORT_DATA_MISMATCH, "the E2E key must be a 32-byte X25519 public key");
  }
  return sha256(
    concatBytes(
      utf8.encode(REPORT_DATA_DOMAIN),
      keys.signer,
      keys.e2ePublicKey,
      sha256(keys.tlsSpki ?? new Uint8Array(0)),
      sha256(keys.gpuPayload == null ? new Uint8Array(0) : utf8.encode(keys.gpuPayload)),
    ),
  );
}

export function computeReportData(keys: BoundKeys, nonce: Uint8Array): Uint8Array {
  if (nonce.length !== 32) throw new AttestationError(AttestCode.NONCE_MISMATCH, "nonce must be 32 bytes");
  return concatBytes(keyBindingHash(keys), nonce);
}

export type BindingFailure = typeof AttestCode.NONCE_MISMATCH | typeof AttestCode.REPORT_DATA_MISMATCH;

/** Returns null when report_data binds these keys and this nonce, else which half failed. */
export function checkReportData(reportData: Uint8Array, keys: BoundKeys, nonce: Uint8Array): BindingFailure | null {
  if (reportData.length !== 64) return AttestCode.REPORT_DATA_MISMATCH;
  if (!equalBytes(reportData.subarray(32, 64), nonce)) return AttestCode.NONCE_MISMATCH;
  if (!equalBytes(reportData.subarray(0, 32), keyBindingHash(keys))) return AttestCode.REPORT_DATA_MISMATCH;
  return null;
}
