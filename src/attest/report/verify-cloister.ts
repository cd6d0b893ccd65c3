/**
 * Verifies a Cloister attestation report (cloister/attestation/v1, docs/protocol.md):
 * the hardware evidence, the nonce, that report_data v1 binds the signing key, the E2E
 * key, the TLS key and the GPU evidence, the event log, the GPU evidence, and a policy.
 */
import type { Hex } from "../../types.js";
import { fromHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import type { Collateral } from "../intel/collateral.js";
import { checkGpuPayload } from "./gpu-evidence.js";
import type { ReportVerifyOptions } from "./options.js";
import type { ReportState } from "./result.js";
import { cloisterReportSchema, parseWith, type CloisterReportInput } from "./schema.js";
import { checkSnpEvidence } from "./snp-evidence.js";
import { checkAppIdentity, checkKeysBound } from "./key-and-app-check.js";
import { checkTdxQuote } from "./tdx-evidence.js";
import { readTdQuoteFields } from "./td-quote.js";

const clean = (h: string): string => h.toLowerCase().replace(/^0x/, "");

export async function verifyCloisterReport(s: ReportState, value: unknown, opts: ReportVerifyOptions): Promise<void> {
  const r: CloisterReportInput = parseWith(cloisterReportSchema, value, "Cloister report");
  s.list.pass("report parses", `${r.version}, tee ${r.tee}${r.simulated ? " (SIMULATED)" : ""}`);
  s.signingAddress = r.signing_address.toLowerCase();
  s.signingAlgo = r.signing_algo;
  s.signingPublicKey = clean(r.signing_public_key);
  s.e2ePublicKey = clean(r.e2e_public_key);
  const nonce = checkNonce(s, clean(r.request_nonce), opts);
  const now = opts.now ?? new Date();

  const served = r.collateral;
  let rtmrs: readonly string[] | null = null;
  if (r.intel_quote) {
    const quote = fromHex(r.intel_quote);
    // The caller's own collateral wins; else the node's (Intel-signed, so it costs no trust).
    const intel = opts.collateral ?? (served?.intel ? (served.intel as unknown as Collateral) : undefined);
    await checkTdxQuote(s, quote, { ...opts, ...(intel ? { collateral: intel } : {}) });
    try {
      rtmrs = readTdQuoteFields(quote).rtmrs;
    } catch {
      rtmrs = null; // already reported by the quote check
    }
  } else if (r.snp_report) {
    checkSnpEvidence(s, fromHex(r.snp_report), r.snp_cert_chain, opts, served?.amd_crl ? fromHex(served.amd_crl) : undefined);
  } else {
    s.list.fail("hardware evidence", AttestCode.EVIDENCE_UNREADABLE, "the report has neither intel_quote nor snp_report");
  }
  checkKeysBound(s, r, nonce);
  if (rtmrs) checkAppIdentity(s, r, rtmrs);

  if (r.nvidia_payload !== null) checkGpuPayload(s, r.nvidia_payload, nonce, opts.allowSimulated ?? false, now, undefined, { rims: served?.nvidia_rims ?? null, ocsp: served?.nvidia_ocsp ?? null });
  else s.list.notChecked("GPU", "the report has no GPU evidence");
}

/** The nonce checks run against: the caller's when given (must equal the echo), else the echo. */
export function checkNonce(s: ReportState, requestNonce: string, opts: ReportVerifyOptions): Hex {
  if (opts.nonce === undefined) {
    s.list.notChecked("nonce", "no nonce given: this report may be a replay (display only)");
    return requestNonce as Hex;
  }
  if (opts.nonce === requestNonce) s.list.pass("nonce", "the report answers our nonce");
  else s.list.fail("nonce", AttestCode.NONCE_MISMATCH, `the report answers nonce ${requestNonce}, not ours`);
  return opts.nonce as string as Hex;
}
