/**
 * Does this collateral belong to this quote, and is the QE Intel's: FMSPC/TEE fit and
 * "Enclave Identity" matching (Intel "SGX and TDX PCS API" v4). TCB level selection and
 * status are in tcb-eval.ts.
 */
import { AttestationError } from "../../errors.js";
import { fromHex, toHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import type { PckExtensions } from "./pck-extensions.js";
import type { ParsedQuote, SgxReportBody } from "./quote-types.js";
import type { QeIdentity, TcbInfo } from "./signed-collateral.js";

/** The TCB Info is the one for this platform and TEE (FMSPC, PCE-ID, id). */
export function checkTcbInfoFits(info: TcbInfo, pck: PckExtensions, q: ParsedQuote): void {
  if (info.fmspc.toUpperCase() !== pck.fmspc) {
    throw new AttestationError(AttestCode.COLLATERAL_INVALID, `TCB Info is for FMSPC ${info.fmspc}, the PCK certificate says ${pck.fmspc}`);
  }
  const want = q.tee === "tdx" ? "TDX" : "SGX";
  if ((info.id ?? "SGX") !== want) throw new AttestationError(AttestCode.COLLATERAL_INVALID, `TCB Info is for ${info.id ?? "SGX"}, the quote is ${want}`);
}

/** The QE report matches Intel's QE Identity: MRSIGNER, ISVPRODID, masked MISCSELECT and ATTRIBUTES. */
export function checkQeIdentity(id: QeIdentity, qe: SgxReportBody): void {
  const fail = (what: string): never => {
    throw new AttestationError(AttestCode.QE_IDENTITY_MISMATCH, `the quoting enclave's ${what} does not match Intel's QE Identity (${id.id})`);
  };
  if (toHex(qe.mrSigner) !== id.mrsigner.toLowerCase()) fail("MRSIGNER");
  if (qe.isvProdId !== id.isvprodid) fail("ISVPRODID");
  const miscMask = parseInt(id.miscselectMask, 16);
  // MISCSELECT is little-endian in the report but written big-endian-as-hex in JSON.
  const misc = fromHex(id.miscselect);
  const miscJson = ((misc[0] ?? 0) * 0x1000000 + ((misc[1] ?? 0) << 16) + ((misc[2] ?? 0) << 8) + (misc[3] ?? 0)) >>> 0;
  if (((qe.miscSelect & miscMask) >>> 0) !== miscJson) fail("MISCSELECT");
  const mask = fromHex(id.attributesMask);
  const want = fromHex(id.attributes);
  if (!qe.attributes.every((b, i) => (b & (mask[i] ?? 0)) === (want[i] ?? 0))) fail("ATTRIBUTES");
}
