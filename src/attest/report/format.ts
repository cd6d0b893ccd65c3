/**
 * Cloister's attestation report, as served at GET /v1/attestation/report (wire format v1;
 * see docs/protocol.md). Field names follow NEAR AI Cloud's report so tools written for
 * it can read ours; what Cloister adds sits beside them.
 */
export const REPORT_VERSION = "cloister/attestation/v1" as const;

export type SigningAlgo = "ecdsa" | "ed25519";

export interface AttestationReport {
  readonly version: typeof REPORT_VERSION;
  /** "tdx" | "sev-snp" on hardware; "simulated" when the Cloister simulator made the evidence. */
  readonly tee: "tdx" | "sev-snp" | "simulated";
  readonly simulated: boolean;
  /** The client's nonce (64 hex), echoed. */
  readonly request_nonce: string;
  /** ecdsa: 0x-prefixed Ethereum address of the secp256k1 key; ed25519: hex public key. */
  readonly signing_address: string;
  readonly signing_algo: SigningAlgo;
  /** Hex public key: 33-byte compressed secp256k1 or 32-byte ed25519. */
  readonly signing_public_key: string;
  /** Hex X25519 public key that requests are HPKE-sealed to. */
  readonly e2e_public_key: string;
  readonly e2e_suite: { readonly kem: "DHKEM(X25519, HKDF-SHA256)"; readonly kdf: "HKDF-SHA256"; readonly aead: "AES-256-GCM" };
  /** Hex SHA-256 of the TLS certificate's SPKI when TLS terminates inside the enclave. */
  readonly tls_spki_sha256: string | null;
  /** Hex 64-byte report_data the quote carries (layout in docs/protocol.md). */
  readonly report_data: string;
  /** Hex TDX quote (v4/v5), or a TDX-format quote signed by the simulated root. */
  readonly intel_quote: string | null;
  /** SEV-SNP: hex 1184-byte report and the PEM VCEK/VLEK chain. */
  readonly snp_report: string | null;
  readonly snp_cert_chain: string | null;
  /** NVIDIA evidence as a JSON string: {nonce, arch, evidence_list:[{certificate, evidence, arch}]} (NEAR's shape). */
  readonly nvidia_payload: string | null;
  /** Event log entries as dstack emits them: {imr, event_type, digest, event, event_payload}. */
  readonly event_log: readonly EventLogEntry[];
  readonly info: ReportInfo;
  /**
   * Vendor-signed material the verifier needs for TCB status, RIM comparison and OCSP,
   * served by the node so a client need not reach Intel, AMD or NVIDIA (docs/protocol.md,
   * "Collateral"). Signed by the vendors, so carrying it costs no trust; absent or partial,
   * the checks it feeds are unchecked (and fail unless the caller accepts them).
   */
  readonly collateral?: ReportCollateral;
}

export interface ReportCollateral {
  /** Intel DCAP collateral (QuoteCollateralV3 JSON: TCB Info, QE Identity, CRLs) for intel_quote. */
  readonly intel: Readonly<Record<string, string>> | null;
  /** AMD KDS CRL (hex DER) for the VCEK's product. */
  readonly amd_crl: string | null;
  /** Per GPU, in nvidia_payload's evidence_list order: NVIDIA's signed driver and VBIOS RIMs (XML text). */
  readonly nvidia_rims: readonly { readonly driver: string; readonly vbios: string }[] | null;
  /** NVIDIA OCSP answers (hex DER) for the GPU certificates below the root, any order. */
  readonly nvidia_ocsp: readonly string[] | null;
  /** True when the collateral is the simulator's (signed under the SIMULATED roots). */
  readonly simulated: boolean;
}

export interface EventLogEntry {
  readonly imr: number;
  readonly event_type: number;
  readonly digest: string;
  readonly event: string;
  readonly event_payload: string;
}

export interface ReportInfo {
  readonly app_name: string;
  readonly version: string;
  /** What was measured into RTMR3: image digests, compose file hash, agent bundle hashes. */
  readonly app_manifest: Readonly<Record<string, unknown>>;
  readonly compose_hash: string | null;
  readonly [extra: string]: unknown;
}
