/**
 * Just enough of an Intel TDX quote to read its measurements and report_data, for the
 * report verifier and the simulator (the full parser and signature checks live in
 * src/attest/intel). Layout: Intel TDX DCAP Quote Generation Library and Quote
 * Verification Library, Appendix A: a 48-byte header (version u16, att key type u16,
 * TEE type u32, ...), then for v4 the TD report body (584 bytes) directly, for v5 a
 * body descriptor (type u16: 2 = TD 1.0, 3 = TD 1.5; size u32) first.
 */
import { AttestationError } from "../../errors.js";
import type { Hex } from "../../types.js";
import { toHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";

export const QUOTE_HEADER_LEN = 48;
export const TD_REPORT10_LEN = 584;
export const TD_REPORT15_LEN = 648;
export const TEE_TYPE_TDX = 0x81;
export const TEE_TYPE_SGX = 0x00;

/** Offsets inside the TD report body (TD 1.0; TD 1.5 appends fields after report_data). */
export const TD_OFFSETS = {
  teeTcbSvn: 0,
  mrSeam: 16,
  mrSignerSeam: 64,
  seamAttributes: 112,
  tdAttributes: 120,
  xfam: 128,
  mrTd: 136,
  mrConfigId: 184,
  mrOwner: 232,
  mrOwnerConfig: 280,
  rtmr0: 328,
  reportData: 520,
} as const;

export interface TdQuoteFields {
  readonly version: number;
  readonly attestationKeyType: number;
  readonly teeType: number;
  /** Offset and length of the TD report body inside the quote. */
  readonly bodyOffset: number;
  readonly bodyLength: number;
  readonly mrtd: Hex;
  readonly rtmrs: readonly [Hex, Hex, Hex, Hex];
  readonly mrseam: Hex;
  readonly reportData: Hex;
  readonly tdAttributes: Hex;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) | ((b[o + 1] ?? 0) << 8) | ((b[o + 2] ?? 0) << 16) | ((b[o + 3] ?? 0) << 24)) >>> 0;
}

export function readTdQuoteFields(quote: Uint8Array): TdQuoteFields {
  if (quote.length < QUOTE_HEADER_LEN + TD_REPORT10_LEN) {
    throw new AttestationError(AttestCode.QUOTE_MALFORMED, `a TDX quote is at least ${QUOTE_HEADER_LEN + TD_REPORT10_LEN} bytes, got ${quote.length}`);
  }
  const version = u16(quote, 0);
  const attestationKeyType = u16(quote, 2);
  const teeType = u32(quote, 4);
  if (teeType !== TEE_TYPE_TDX) throw new AttestationError(AttestCode.QUOTE_MALFORMED, `TEE type 0x${teeType.toString(16)} is not TDX (0x81)`);
  let bodyOffset = QUOTE_HEADER_LEN;
  let bodyLength = TD_REPORT10_LEN;
  if (version === 5) {
    const type = u16(quote, 48);
    bodyLength = u32(quote, 50);
    bodyOffset = 54;
    if ((type !== 2 && type !== 3) || (bodyLength !== TD_REPORT10_LEN && bodyLength !== TD_REPORT15_LEN)) {
      throw new AttestationError(AttestCode.QUOTE_MALFORMED, `v5 quote body type ${type} size ${bodyLength} is not a TD report`);
    }
    if (quote.length < bodyOffset + bodyLength) throw new AttestationError(AttestCode.QUOTE_MALFORMED, "v5 quote is truncated");
  } else if (version !== 4) {
    throw new AttestationError(AttestCode.QUOTE_VERSION_UNSUPPORTED, `TDX quote version ${version} (expected 4 or 5)`);
  }
  const f = (off: number, len: number): Hex => toHex(quote.subarray(bodyOffset + off, bodyOffset + off + len));
  const r = (i: number): Hex => f(TD_OFFSETS.rtmr0 + 48 * i, 48);
  return {
    version,
    attestationKeyType,
    teeType,
    bodyOffset,
    bodyLength,
    mrtd: f(TD_OFFSETS.mrTd, 48),
    rtmrs: [r(0), r(1), r(2), r(3)],
    mrseam: f(TD_OFFSETS.mrSeam, 48),
    reportData: f(TD_OFFSETS.reportData, 64),
    tdAttributes: f(TD_OFFSETS.tdAttributes, 8),
  };
}
