import type { EventLogEntry, ReportCollateral } from "./report/format.js";

/**
 * Where quotes come from. Hardware providers (configfs-tsm, the dstack guest agent) and
 * the simulator implement the same interface so the node never branches on the mode.
 */
export interface QuoteResult {
  readonly tee: "tdx" | "sev-snp" | "simulated";
  readonly simulated: boolean;
  /** TDX quote bytes, or the SNP report bytes for sev-snp. */
  readonly quote: Uint8Array;
  /** PEM chain for SNP (VCEK/VLEK, ASK, ARK); null for TDX. */
  readonly certChain: string | null;
  readonly eventLog: readonly EventLogEntry[];
}

export interface TeeProvider {
  readonly name: string;
  readonly simulated: boolean;
  /** Asks the hardware for a quote whose report_data is exactly these 64 bytes. */
  getQuote(reportData: Uint8Array): Promise<QuoteResult>;
  /** NVIDIA evidence for this nonce as NEAR's JSON string, or null when there is no CC GPU. */
  getGpuEvidence(nonce: Uint8Array): Promise<string | null>;
  /**
   * Vendor collateral for this quote and GPU evidence (Intel TCB Info/QE Identity/CRLs, AMD
   * CRL, NVIDIA RIMs and OCSP), served beside the report; cached by the provider. Optional:
   * without it the report says nothing and the verifier's checks stay unchecked.
   */
  getCollateral?(quote: QuoteResult, gpuPayload: string | null): Promise<ReportCollateral>;
  /** Extends RTMR3 with an application event (dstack-style), where the provider supports it. */
  extendAppEvent?(event: string, payload: Uint8Array): Promise<void>;
}
