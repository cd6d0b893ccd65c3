/**
 * Test helper: where each part of a genuine quote lies, so tampering tests flip a byte in
 * exactly the part they mean (offsets from the parsed structure, not hard-coded).
 */
import { parseQuote } from "./parse-quote.js";

export interface QuoteParts {
  readonly header: number;
  readonly body: number;
  readonly signature: number;
  readonly attestationKey: number;
  readonly qeReport: number;
  readonly qeReportSignature: number;
  /** A base64 character inside the PCK leaf certificate's PEM. */
  readonly pckLeaf: number;
}

function offsetOf(outer: Uint8Array, inner: Uint8Array): number {
  return inner.byteOffset - outer.byteOffset;
}

export function quoteParts(bytes: Uint8Array): QuoteParts {
  const q = parseQuote(bytes);
  const sd = q.signatureData;
  const pemStart = new TextDecoder("latin1").decode(bytes).indexOf("-----BEGIN CERTIFICATE-----");
  return {
    header: 28, // user data: covered by the quote signature, read by nothing else
    body: offsetOf(bytes, q.body.raw) + 100,
    signature: offsetOf(bytes, sd.signature) + 5,
    attestationKey: offsetOf(bytes, sd.attestationKey) + 5,
    qeReport: offsetOf(bytes, sd.certification.qeReport.raw) + 20,
    qeReportSignature: offsetOf(bytes, sd.certification.qeReportSignature) + 5,
    pckLeaf: pemStart + 28 + 300,
  };
}

/** Replaces a base64 letter by another letter: the PEM stays decodable, the DER changes. */
export function flipBase64(bytes: Uint8Array, offset: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  const c = out[offset] ?? 0x41;
  out[offset] = c === 0x41 ? 0x42 : 0x41;
  return out;
}
