/**
 * Stable codes for every way evidence can fail. They appear in `cloister verify --json`,
 * in client errors and in logs; never rename one, only add.
 */
export const AttestCode = {
  /** The input is not evidence we can read (wrong format, truncated, not hex). */
  EVIDENCE_UNREADABLE: "EVIDENCE_UNREADABLE",
  UNSUPPORTED_EVIDENCE: "UNSUPPORTED_EVIDENCE",
  QUOTE_MALFORMED: "QUOTE_MALFORMED",
  QUOTE_VERSION_UNSUPPORTED: "QUOTE_VERSION_UNSUPPORTED",
  /** The quote body is not signed by the attestation key. */
  QUOTE_SIGNATURE_INVALID: "QUOTE_SIGNATURE_INVALID",
  /** The QE report is not signed by the PCK key, or does not bind the attestation key. */
  QE_REPORT_INVALID: "QE_REPORT_INVALID",
  QE_IDENTITY_MISMATCH: "QE_IDENTITY_MISMATCH",
  CERT_CHAIN_INVALID: "CERT_CHAIN_INVALID",
  /** The chain ends in a root that is not the vendor's (Intel, AMD, NVIDIA). */
  FOREIGN_ROOT: "FOREIGN_ROOT",
  CERT_EXPIRED: "CERT_EXPIRED",
  CERT_REVOKED: "CERT_REVOKED",
  CRL_INVALID: "CRL_INVALID",
  CRL_STALE: "CRL_STALE",
  COLLATERAL_MISSING: "COLLATERAL_MISSING",
  COLLATERAL_INVALID: "COLLATERAL_INVALID",
  COLLATERAL_SIGNATURE_INVALID: "COLLATERAL_SIGNATURE_INVALID",
  COLLATERAL_EXPIRED: "COLLATERAL_EXPIRED",
  COLLATERAL_NOT_YET_VALID: "COLLATERAL_NOT_YET_VALID",
  COLLATERAL_FETCH_FAILED: "COLLATERAL_FETCH_FAILED",
  TCB_LEVEL_NOT_FOUND: "TCB_LEVEL_NOT_FOUND",
  /** MRSIGNERSEAM/SEAMATTRIBUTES are not those of the TDX module identity in TCB Info, or it has none for this module. */
  TDX_MODULE_MISMATCH: "TDX_MODULE_MISMATCH",
  /** Our own TCB evaluation and the DCAP library's disagree: refuse rather than pick one. */
  TCB_CROSS_CHECK_FAILED: "TCB_CROSS_CHECK_FAILED",
  /** The DCAP library (dcap-qvl) rejected the quote for a reason none of our own checks names. */
  DCAP_VERIFICATION_FAILED: "DCAP_VERIFICATION_FAILED",
  TCB_STATUS_NOT_ALLOWED: "TCB_STATUS_NOT_ALLOWED",
  /** The TCB status could not be established (no Intel collateral, no AMD CRL) and the caller did not accept that (`--accept-unchecked tcb`). */
  TCB_UNCHECKED: "TCB_UNCHECKED",
  /** A GPU's measurements could not be compared with NVIDIA's signed RIMs and the caller did not accept that (`--accept-unchecked gpu-rim`). */
  RIM_UNCHECKED: "RIM_UNCHECKED",
  /** A GPU certificate's revocation (NVIDIA OCSP) could not be checked and the caller did not accept that (`--accept-unchecked gpu-ocsp`). */
  OCSP_UNCHECKED: "OCSP_UNCHECKED",
  /** The report's app_manifest (model id, sha256) is not what RTMR3 recorded. */
  MODEL_MISMATCH: "MODEL_MISMATCH",
  /** OCSP says a GPU certificate is revoked, or the OCSP answer does not verify. */
  OCSP_INVALID: "OCSP_INVALID",
  DEBUG_ENABLED: "DEBUG_ENABLED",
  SNP_POLICY_INVALID: "SNP_POLICY_INVALID",
  /** The SNP report was requested from a VMPL above the allowed one (code under an SVSM/paravisor). */
  SNP_VMPL_NOT_ALLOWED: "SNP_VMPL_NOT_ALLOWED",
  /** The SNP report's REPORTED_TCB or CHIP_ID is not the one its VCEK/VLEK was issued for. */
  VCEK_MISMATCH: "VCEK_MISMATCH",
  REPORT_SIGNATURE_INVALID: "REPORT_SIGNATURE_INVALID",
  NONCE_MISMATCH: "NONCE_MISMATCH",
  REPORT_DATA_MISMATCH: "REPORT_DATA_MISMATCH",
  MEASUREMENT_NOT_ALLOWED: "MEASUREMENT_NOT_ALLOWED",
  RTMR_MISMATCH: "RTMR_MISMATCH",
  EVENT_LOG_INVALID: "EVENT_LOG_INVALID",
  COMPOSE_HASH_MISMATCH: "COMPOSE_HASH_MISMATCH",
  /** dstack vm_config's OS image documents do not hash to os_image_hash, or the image does not give the quote's MRTD. */
  OS_IMAGE_MISMATCH: "OS_IMAGE_MISMATCH",
  /** dstack SEV-SNP: HOST_DATA is not the hash of the attestation's mr_config, or the runtime events contradict it. */
  APP_CONFIG_MISMATCH: "APP_CONFIG_MISMATCH",
  SIMULATED_NOT_ALLOWED: "SIMULATED_NOT_ALLOWED",
  GPU_EVIDENCE_INVALID: "GPU_EVIDENCE_INVALID",
  GPU_SIGNATURE_INVALID: "GPU_SIGNATURE_INVALID",
  GPU_NONCE_MISMATCH: "GPU_NONCE_MISMATCH",
  GPU_CLAIM_FAILED: "GPU_CLAIM_FAILED",
  /** The node's GPU evidence collector (nvattest, nvtrust's verifier) failed, hung or printed nothing usable. */
  GPU_COLLECTOR_FAILED: "GPU_COLLECTOR_FAILED",
  /** The TEE refused to record an application event (e.g. a dstack agent >= 0.6 without EmitEvent). */
  APP_EVENT_REJECTED: "APP_EVENT_REJECTED",
  JWT_INVALID: "JWT_INVALID",
  JWT_EXPIRED: "JWT_EXPIRED",
  JWKS_KEY_NOT_FOUND: "JWKS_KEY_NOT_FOUND",
  RIM_SIGNATURE_INVALID: "RIM_SIGNATURE_INVALID",
  RIM_MISMATCH: "RIM_MISMATCH",
  SIGSTORE_INVALID: "SIGSTORE_INVALID",
  POLICY_INVALID: "POLICY_INVALID",
  POLICY_VIOLATION: "POLICY_VIOLATION",
  /** The report's signing_address is not the address of its signing_public_key. */
  SIGNING_KEY_MISMATCH: "SIGNING_KEY_MISMATCH",
} as const;

export type AttestCode = (typeof AttestCode)[keyof typeof AttestCode];
