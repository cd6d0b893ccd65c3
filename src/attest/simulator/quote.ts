/**
 * Builds a TDX quote v4 in the genuine byte format (Intel TDX DCAP Quoting Library API,
 * Appendix A.3), signed by the Cloister SIMULATED chain instead of Intel's: the same
 * parser and the same signature checks run on it, and only the root differs. So a
 * verifier that does not trust the simulated root rejects it (FOREIGN_ROOT), and one
 * that recognises it says "simulated".
 *
 *   header (48) | TD report body (584) | sig data len u32 |
 *   quote sig (64) | attestation key (64) | cert data type 6 {
 *     QE report (384) | QE report sig (64) | auth len u16 | auth data |
 *     cert data type 5 { PEM chain: PCK leaf, PCK CA, root } }
 */
import { createHash } from "node:crypto";
import { sha384 } from "@noble/hashes/sha2.js";
import { concatBytes, fromHex, utf8 } from "../../util/bytes.js";
import { QUOTE_HEADER_LEN, TD_OFFSETS, TD_REPORT10_LEN, TEE_TYPE_TDX } from "../report/td-quote.js";
import { SIMULATED_PCK_CA_CERT_PEM, SIMULATED_PCK_LEAF_KEY_PEM, SIMULATED_ROOT_CERT_PEM } from "./roots.js";
import { SIMULATED_PCK_LEAF_SGX_CERT_PEM } from "./collateral-roots.js";
import { INTEL_TD_QE_ISVPRODID, INTEL_TD_QE_MRSIGNER } from "../intel/qe-pin.js";
import { freshP256, privateKeyFromPem, signRaw } from "./sign.js";

/** 16 bytes where Intel's QE vendor id would be, so a hex dump says what this is. */
export const SIMULATED_QE_VENDOR_ID = utf8.encode("SIMULATED-QE-VID");
const SGX_REPORT_LEN = 384;
const SGX_REPORT_DATA_OFFSET = 320;
const SGX_MRENCLAVE_OFFSET = 64;
const SGX_MRSIGNER_OFFSET = 128;
const SGX_ISVPRODID_OFFSET = 256;

export interface TdRegisters {
  readonly mrtd: Uint8Array;
  readonly rtmrs: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
}

/** A fixed, obviously-fake register value: SHA-384 of a label. */
export function simulatedRegister(label: string): Uint8Array {
  return sha384(utf8.encode(`cloister simulated ${label}`));
}

function u16(v: number): Uint8Array {
  return new Uint8Array([v & 0xff, (v >>> 8) & 0xff]);
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

function header(): Uint8Array {
  const h = new Uint8Array(QUOTE_HEADER_LEN);
  h.set(u16(4), 0); // version 4
  h.set(u16(2), 2); // attestation key type 2 = ECDSA-256-with-P-256
  h.set(u32(TEE_TYPE_TDX), 4);
  h.set(SIMULATED_QE_VENDOR_ID, 12);
  h.set(utf8.encode("CLOISTER SIMULATED"), 28); // user data (20 bytes)
  return h;
}

function tdReportBody(regs: TdRegisters, reportData: Uint8Array): Uint8Array {
  const b = new Uint8Array(TD_REPORT10_LEN);
  b.set([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], TD_OFFSETS.teeTcbSvn);
  b.set(simulatedRegister("mrseam"), TD_OFFSETS.mrSeam);
  // TD attributes all zero: DEBUG off (TDX Module ABI, TDINFO_STRUCT.ATTRIBUTES bit 0).
  b.set(regs.mrtd, TD_OFFSETS.mrTd);
  regs.rtmrs.forEach((r, i) => b.set(r, TD_OFFSETS.rtmr0 + 48 * i));
  b.set(reportData, TD_OFFSETS.reportData);
  return b;
}

function certData(type: number, data: Uint8Array): Uint8Array {
  return concatBytes(u16(type), u32(data.length), data);
}

export function buildSimulatedTdxQuote(regs: TdRegisters, reportData: Uint8Array): Uint8Array {
  if (reportData.length !== 64) throw new RangeError("report_data is 64 bytes");
  const att = freshP256();
  const signed = concatBytes(header(), tdReportBody(regs, reportData));
  const quoteSig = signRaw(att.privateKey, "sha256", signed);

  // The QE report vouches for the attestation key: report_data = SHA-256(key || auth) || 0^32.
  const authData = utf8.encode("cloister simulated QE");
  const qeReport = new Uint8Array(SGX_REPORT_LEN);
  qeReport.set(simulatedRegister("qe").subarray(0, 32), SGX_MRENCLAVE_OFFSET);
  // Intel's TD_QE signer and product id, so simulated quotes pass the same offline QE pin
  // (intel/qe-pin.ts) as genuine ones; the simulated PCK root still marks them simulated.
  qeReport.set(fromHex(INTEL_TD_QE_MRSIGNER), SGX_MRSIGNER_OFFSET);
  qeReport.set(u16(INTEL_TD_QE_ISVPRODID), SGX_ISVPRODID_OFFSET);
  qeReport.set(createHash("sha256").update(att.rawPublic).update(authData).digest(), SGX_REPORT_DATA_OFFSET);
  const qeSig = signRaw(privateKeyFromPem(SIMULATED_PCK_LEAF_KEY_PEM), "sha256", qeReport);
  const chain = utf8.encode([SIMULATED_PCK_LEAF_SGX_CERT_PEM, SIMULATED_PCK_CA_CERT_PEM, SIMULATED_ROOT_CERT_PEM].join(""));
  const qeCert = concatBytes(qeReport, qeSig, u16(authData.length), authData, certData(5, chain));

  const sigData = concatBytes(quoteSig, att.rawPublic, certData(6, qeCert));
  return concatBytes(signed, u32(sigData.length), sigData);
}
