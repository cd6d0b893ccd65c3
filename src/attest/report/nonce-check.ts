/**
 * Freshness for bare evidence (a DCAP quote, an SEV-SNP report or bundle): with no report
 * around it, the only place a caller's nonce can be bound is report_data itself. Cloister
 * and dstack put it in report_data[32:64] (the first half binds the signing key), the same
 * convention checkReportBinding uses for full reports. Without a nonce the evidence may be
 * a replay of an old one, and the check says so instead of silently passing.
 */
import type { Nonce } from "../../types.js";
import { AttestCode } from "../codes.js";
import type { CheckList } from "../types.js";

export function checkEvidenceNonce(list: CheckList, reportDataHex: string | null, nonce: Nonce | undefined): void {
  if (!nonce) {
    list.notChecked("nonce", "no nonce given: freshness not checked, the evidence may be a replay");
    return;
  }
  if (reportDataHex === null || reportDataHex.length !== 128) {
    list.fail("nonce", AttestCode.NONCE_MISMATCH, "no 64-byte report_data to find the nonce in");
    return;
  }
  if (reportDataHex.slice(64).toLowerCase() === nonce.toLowerCase()) list.pass("nonce", "report_data[32:64] is the caller's nonce");
  else list.fail("nonce", AttestCode.NONCE_MISMATCH, "report_data[32:64] is not the caller's nonce");
}
