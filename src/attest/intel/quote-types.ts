/**
 * The parsed shape of an Intel DCAP quote. Field names follow the specs:
 * - SGX ECDSA Quote v3: "Intel SGX ECDSA Quote Library API", Appendix A.4 "Quote Format".
 * - TDX Quote v4/v5: "Intel TDX DCAP Quoting Library API", Appendix A.3 (v4) and A.4 (v5).
 * Byte fields are views into the input (no copies); registers are exposed as hex by
 * quoteMeasurements().
 */

/** Quote header, 48 bytes (TDX DCAP API A.3.1 / SGX ECDSA API A.4 "Quote Header"). */
export interface QuoteHeader {
  readonly version: 3 | 4 | 5;
  /** 2 = ECDSA-256-with-P-256 (the only type DCAP issues). */
  readonly attestationKeyType: number;
  /** 0x00000000 = SGX, 0x00000081 = TDX. In v3 these 4 bytes are reserved (zero). */
  readonly teeType: number;
  readonly qeSvn: number;
  readonly pceSvn: number;
  readonly qeVendorId: Uint8Array;
  readonly userData: Uint8Array;
  /** The raw 48 bytes (signed together with the body). */
  readonly raw: Uint8Array;
}

/** SGX enclave report body, 384 bytes (SGX ECDSA API A.4 "ISV Enclave Report Body"). */
export interface SgxReportBody {
  readonly kind: "sgx";
  readonly cpuSvn: Uint8Array;
  readonly miscSelect: number;
  readonly attributes: Uint8Array;
  readonly mrEnclave: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly reportData: Uint8Array;
  readonly raw: Uint8Array;
}

/** TD report body: TD 1.0 is 584 bytes (A.3.2); TD 1.5 adds 64 bytes (v5, A.4.2 body type 3). */
export interface TdReportBody {
  readonly kind: "td10" | "td15";
  readonly teeTcbSvn: Uint8Array;
  readonly mrSeam: Uint8Array;
  readonly mrSignerSeam: Uint8Array;
  readonly seamAttributes: Uint8Array;
  readonly tdAttributes: Uint8Array;
  readonly xfam: Uint8Array;
  readonly mrTd: Uint8Array;
  readonly mrConfigId: Uint8Array;
  readonly mrOwner: Uint8Array;
  readonly mrOwnerConfig: Uint8Array;
  readonly rtmr: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  readonly reportData: Uint8Array;
  /** TD 1.5 only. */
  readonly teeTcbSvn2: Uint8Array | null;
  readonly mrServiceTd: Uint8Array | null;
  readonly raw: Uint8Array;
}

export type QuoteBody = SgxReportBody | TdReportBody;

/** Certification data (SGX ECDSA API A.4 "Certification Data"; TDX API A.3.9/A.3.10). */
export interface QeReportCertification {
  /** The Quoting Enclave's own SGX report (384 bytes), signed by the PCK key. */
  readonly qeReport: SgxReportBody;
  /** ECDSA P-256 r||s over qeReport.raw, by the PCK leaf key. */
  readonly qeReportSignature: Uint8Array;
  readonly qeAuthData: Uint8Array;
  /** Certification data type 5: the PEM PCK chain (leaf, intermediate, root). */
  readonly pckChainPem: string;
}

export interface QuoteSignatureData {
  /** ECDSA P-256 r||s over the header and body by the attestation key. */
  readonly signature: Uint8Array;
  /** Raw P-256 public key x||y (64 bytes). */
  readonly attestationKey: Uint8Array;
  readonly certification: QeReportCertification;
}

export interface ParsedQuote {
  readonly tee: "tdx" | "sgx";
  readonly header: QuoteHeader;
  /** v5 only: 1 = SGX, 2 = TD 1.0, 3 = TD 1.5; for v3/v4 the type implied by the version. */
  readonly bodyType: 1 | 2 | 3;
  readonly body: QuoteBody;
  /** Every byte the quote signature covers (header || [v5 type, size] || body). */
  readonly signedBytes: Uint8Array;
  readonly signatureData: QuoteSignatureData;
  /** Bytes after the signature data: covered by no signature, ignored. */
  readonly trailingBytes: number;
}
