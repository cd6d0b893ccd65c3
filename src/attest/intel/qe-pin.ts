/**
 * Offline pin of Intel's Quoting Enclave identity. Without collateral there is no signed
 * QE Identity to compare against, so a PCK-signed report from ANY enclave on the platform
 * (a non-Intel "QE" that signs whatever it is given) would otherwise be accepted. These
 * values are Intel's own, read from the signed QE Identity collateral in the genuine
 * vectors (../shared/vectors/intel-dcap/*_collateral.json, enclaveIdentity.id "QE" and
 * "TD_QE") and matched by every genuine quote there:
 *   SGX QE    MRSIGNER 8c4f5775…57bff, ISVPRODID 1
 *   TDX TD_QE MRSIGNER dc9e2a7c…4a8c5, ISVPRODID 2
 * The QE report is an SGX report (SGX ECDSA API A.4), so its DEBUG bit is ATTRIBUTES bit 1.
 */
import { AttestationError } from "../../errors.js";
import { toHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import type { ParsedQuote } from "./quote-types.js";

export const INTEL_QE_MRSIGNER = "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff";
export const INTEL_TD_QE_MRSIGNER = "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5";
export const INTEL_QE_ISVPRODID = 1;
export const INTEL_TD_QE_ISVPRODID = 2;

export function expectedQe(tee: "sgx" | "tdx"): { readonly mrSigner: string; readonly isvProdId: number } {
  return tee === "tdx"
    ? { mrSigner: INTEL_TD_QE_MRSIGNER, isvProdId: INTEL_TD_QE_ISVPRODID }
    : { mrSigner: INTEL_QE_MRSIGNER, isvProdId: INTEL_QE_ISVPRODID };
}

/** Throws QE_IDENTITY_MISMATCH unless the QE report is Intel's (non-debug) QE for this TEE. */
export function checkIntelQe(q: ParsedQuote): void {
  const r = q.signatureData.certification.qeReport;
  const want = expectedQe(q.tee);
  const name = q.tee === "tdx" ? "TD_QE" : "QE";
  if (toHex(r.mrSigner) !== want.mrSigner) {
    throw new AttestationError(AttestCode.QE_IDENTITY_MISMATCH, `the QE report's MRSIGNER is not Intel's ${name} signer`);
  }
  if (r.isvProdId !== want.isvProdId) {
    throw new AttestationError(AttestCode.QE_IDENTITY_MISMATCH, `the QE report's ISVPRODID is ${r.isvProdId}, Intel's ${name} is ${want.isvProdId}`);
  }
  if (((r.attributes[0] ?? 0) & 0x02) !== 0) {
    throw new AttestationError(AttestCode.QE_IDENTITY_MISMATCH, "the quoting enclave is a debug enclave (ATTRIBUTES.DEBUG)");
  }
}
