/**
 * Pure parser for Intel DCAP quotes: SGX v3, TDX v4 and TDX v5 (TD 1.0 and TD 1.5
 * bodies). Layouts cite "Intel TDX DCAP Quoting Library API" (TDX API) Appendix A and
 * "Intel SGX ECDSA Quote Library API" (SGX API) Appendix A.4. Every truncation or
 * inconsistent length is QUOTE_MALFORMED; an unknown version, key type or body type is
 * QUOTE_VERSION_UNSUPPORTED. No crypto happens here.
 */
import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";
import { ByteReader, malformed } from "./reader.js";
import type {
  ParsedQuote,
  QeReportCertification,
  QuoteBody,
  QuoteHeader,
  QuoteSignatureData,
  SgxReportBody,
  TdReportBody,
} from "./quote-types.js";

const TEE_SGX = 0x00000000;
const TEE_TDX = 0x00000081;
/** ECDSA-256-with-P-256 (SGX API A.4 "Attestation Key Type"). */
const ATT_KEY_ECDSA_P256 = 2;
export const SGX_REPORT_SIZE = 384;
export const TD10_BODY_SIZE = 584;
export const TD15_BODY_SIZE = 648;
/** Certification data types (SGX API A.4 "Certification Data Type"; TDX API A.3.9). */
const CERT_PCK_CHAIN = 5;
const CERT_QE_REPORT = 6;

function unsupported(message: string): AttestationError {
  return new AttestationError(AttestCode.QUOTE_VERSION_UNSUPPORTED, message);
}

export function parseQuote(bytes: Uint8Array): ParsedQuote {
  if (!(bytes instanceof Uint8Array)) throw malformed("a quote must be bytes");
  const r = new ByteReader(bytes);
  const header = parseHeader(r);
  let bodyType: 1 | 2 | 3;
  if (header.version === 5) {
    // TDX API A.4.1: v5 puts a body type (u16) and body size (u32) before the body.
    const t = r.u16("body type");
    const size = r.u32("body size");
    if (t !== 1 && t !== 2 && t !== 3) throw unsupported(`quote v5 body type ${t} is not supported`);
    const expected = t === 1 ? SGX_REPORT_SIZE : t === 2 ? TD10_BODY_SIZE : TD15_BODY_SIZE;
    if (size !== expected) throw malformed(`quote v5 body type ${t} must be ${expected} bytes, says ${size}`);
    bodyType = t;
  } else {
    bodyType = header.version === 3 ? 1 : 2;
  }
  const tee = header.teeType === TEE_TDX ? "tdx" : "sgx";
  if ((tee === "sgx") !== (bodyType === 1)) throw malformed(`body type ${bodyType} does not fit TEE type ${header.teeType}`);
  const body: QuoteBody =
    bodyType === 1 ? parseSgxReport(r.sub(SGX_REPORT_SIZE, "enclave report")) : parseTdBody(r, bodyType === 3);
  const signedBytes = bytes.subarray(0, r.offset);
  const sigLen = r.u32("signature data length");
  const sr = r.sub(sigLen, "signature data");
  const signatureData = parseSignatureData(sr, header.version);
  sr.expectEnd("signature data");
  // The signature data length marks the end of the quote. Sources pad quotes (configfs-tsm
  // buffers, google/go-tdx-guest's sample has text appended); like Intel's QVL and
  // dcap-qvl we ignore what follows: it is covered by no signature and never read.
  return { tee, header, bodyType, body, signedBytes, signatureData, trailingBytes: r.remaining };
}

/** Quote header (TDX API A.3.1; SGX API A.4 "Quote Header"), 48 bytes. */
function parseHeader(r: ByteReader): QuoteHeader {
  const start = r.offset;
  const hr = r.sub(48, "quote header");
  const version = hr.u16("version");
  if (version !== 3 && version !== 4 && version !== 5) throw unsupported(`quote version ${version} is not supported`);
  const attestationKeyType = hr.u16("attestation key type");
  if (attestationKeyType !== ATT_KEY_ECDSA_P256) {
    throw unsupported(`attestation key type ${attestationKeyType} is not supported (only ECDSA P-256)`);
  }
  const teeType = hr.u32("tee type");
  if (teeType !== TEE_SGX && teeType !== TEE_TDX) throw malformed(`unknown TEE type 0x${teeType.toString(16)}`);
  if (version === 3 && teeType !== TEE_SGX) throw malformed("quote v3 is SGX only");
  if (version === 4 && teeType !== TEE_TDX) throw unsupported("SGX quotes in v4 layout are not supported");
  const qeSvn = hr.u16("qe svn");
  const pceSvn = hr.u16("pce svn");
  const qeVendorId = hr.bytes(16, "qe vendor id");
  const userData = hr.bytes(20, "user data");
  hr.expectEnd("quote header");
  return { version, attestationKeyType, teeType, qeSvn, pceSvn, qeVendorId, userData, raw: r.slice(start, r.offset) };
}

/** SGX report body (SGX API A.4 "ISV Enclave Report Body"), 384 bytes. */
export function parseSgxReport(r: ByteReader): SgxReportBody {
  const start = r.offset;
  const cpuSvn = r.bytes(16, "cpu svn");
  const miscSelect = r.u32("misc select");
  r.bytes(28, "reserved");
  const attributes = r.bytes(16, "attributes");
  const mrEnclave = r.bytes(32, "mrenclave");
  r.bytes(32, "reserved");
  const mrSigner = r.bytes(32, "mrsigner");
  r.bytes(96, "reserved");
  const isvProdId = r.u16("isv prod id");
  const isvSvn = r.u16("isv svn");
  r.bytes(60, "reserved");
  const reportData = r.bytes(64, "report data");
  r.expectEnd("enclave report");
  return { kind: "sgx", cpuSvn, miscSelect, attributes, mrEnclave, mrSigner, isvProdId, isvSvn, reportData, raw: r.slice(start, r.offset) };
}

/** TD quote body (TDX API A.3.2, 584 bytes; v5 TD 1.5 body, A.4.2, adds 64 bytes). */
function parseTdBody(outer: ByteReader, td15: boolean): TdReportBody {
  const r = outer.sub(td15 ? TD15_BODY_SIZE : TD10_BODY_SIZE, "TD report body");
  const start = r.offset;
  const teeTcbSvn = r.bytes(16, "tee tcb svn");
  const mrSeam = r.bytes(48, "mrseam");
  const mrSignerSeam = r.bytes(48, "mrsignerseam");
  const seamAttributes = r.bytes(8, "seam attributes");
  const tdAttributes = r.bytes(8, "td attributes");
  const xfam = r.bytes(8, "xfam");
  const mrTd = r.bytes(48, "mrtd");
  const mrConfigId = r.bytes(48, "mrconfigid");
  const mrOwner = r.bytes(48, "mrowner");
  const mrOwnerConfig = r.bytes(48, "mrownerconfig");
  const rtmr = [r.bytes(48, "rtmr0"), r.bytes(48, "rtmr1"), r.bytes(48, "rtmr2"), r.bytes(48, "rtmr3")] as const;
  const reportData = r.bytes(64, "report data");
  const teeTcbSvn2 = td15 ? r.bytes(16, "tee tcb svn2") : null;
  const mrServiceTd = td15 ? r.bytes(48, "mrservicetd") : null;
  r.expectEnd("TD report body");
  return {
    kind: td15 ? "td15" : "td10",
    teeTcbSvn, mrSeam, mrSignerSeam, seamAttributes, tdAttributes, xfam, mrTd, mrConfigId, mrOwner, mrOwnerConfig,
    rtmr, reportData, teeTcbSvn2, mrServiceTd,
    raw: r.slice(start, r.offset),
  };
}

/**
 * Quote signature data. v3 (SGX API A.4 "ECDSA 256-bit Quote Signature Data Structure"):
 * signature, attestation key, QE report, QE report signature, QE auth data, certification
 * data (type 5). v4/v5 (TDX API A.3.8): signature, attestation key, certification data of
 * type 6 whose payload is the QE report certification data (A.3.10) wrapping the same
 * QE report fields and a nested type-5 PCK chain.
 */
function parseSignatureData(r: ByteReader, version: 3 | 4 | 5): QuoteSignatureData {
  const signature = r.bytes(64, "quote signature");
  const attestationKey = r.bytes(64, "attestation key");
  if (version === 3) return { signature, attestationKey, certification: parseQeReportCertification(r) };
  const { type, data } = parseCertData(r);
  if (type !== CERT_QE_REPORT) throw malformed(`certification data type ${type}, expected 6 (QE report certification data)`);
  const certification = parseQeReportCertification(data);
  data.expectEnd("QE report certification data");
  return { signature, attestationKey, certification };
}

/** QE report certification data (TDX API A.3.10): report, signature, auth data, nested cert data. */
function parseQeReportCertification(r: ByteReader): QeReportCertification {
  const qeReport = parseSgxReport(r.sub(SGX_REPORT_SIZE, "QE report"));
  const qeReportSignature = r.bytes(64, "QE report signature");
  const authLen = r.u16("QE auth data length");
  const qeAuthData = r.bytes(authLen, "QE auth data");
  const { type, data } = parseCertData(r);
  if (type !== CERT_PCK_CHAIN) throw unsupported(`certification data type ${type} is not supported (only 5, the PCK chain)`);
  const pem = data.bytes(data.remaining, "PCK chain");
  // The chain is PEM text, sometimes NUL-terminated; anything not ASCII is corruption.
  const text = new TextDecoder("latin1").decode(pem).replace(/\0+$/, "");
  if (!/^[\x09\x0a\x0d\x20-\x7e]*$/.test(text) || !text.includes("-----BEGIN CERTIFICATE-----")) {
    throw malformed("certification data type 5 is not a PEM certificate chain");
  }
  return { qeReport, qeReportSignature, qeAuthData, pckChainPem: text };
}

/** Certification data header: type u16, size u32 (TDX API A.3.9). */
function parseCertData(r: ByteReader): { type: number; data: ByteReader } {
  const type = r.u16("certification data type");
  const size = r.u32("certification data size");
  return { type, data: r.sub(size, "certification data") };
}
