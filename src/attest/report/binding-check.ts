/**
 * Checks report_data v1 (src/attest/binding.ts) for a Cloister report. The report carries
 * SHA-256(TLS SPKI) rather than the SPKI, and the v1 hash takes exactly that digest, so the
 * binding is recomputed here from the digest; with no TLS key it is binding.ts's own check.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, equalBytes, fromHex, utf8 } from "../../util/bytes.js";
import { checkReportData, REPORT_DATA_DOMAIN, type BindingFailure } from "../binding.js";
import { AttestCode } from "../codes.js";

export interface ReportBindingInputs {
  readonly signer: Uint8Array;
  readonly e2ePublicKey: Uint8Array;
  readonly tlsSpkiSha256: string | null;
  readonly gpuPayload: string | null;
}

export function checkReportBinding(reportData: Uint8Array, k: ReportBindingInputs, nonce: Uint8Array): BindingFailure | null {
  if (k.tlsSpkiSha256 === null) return checkReportData(reportData, { signer: k.signer, e2ePublicKey: k.e2ePublicKey, tlsSpki: null, gpuPayload: k.gpuPayload }, nonce);
  if (reportData.length !== 64) return AttestCode.REPORT_DATA_MISMATCH;
  if (!equalBytes(reportData.subarray(32), nonce)) return AttestCode.NONCE_MISMATCH;
  if (k.e2ePublicKey.length !== 32 || (k.signer.length !== 20 && k.signer.length !== 32)) return AttestCode.REPORT_DATA_MISMATCH;
  const want = sha256(
    concatBytes(
      utf8.encode(REPORT_DATA_DOMAIN),
      k.signer,
      k.e2ePublicKey,
      fromHex(k.tlsSpkiSha256),
      sha256(k.gpuPayload === null ? new Uint8Array(0) : utf8.encode(k.gpuPayload)),
    ),
  );
  return equalBytes(reportData.subarray(0, 32), want) ? null : AttestCode.REPORT_DATA_MISMATCH;
}
