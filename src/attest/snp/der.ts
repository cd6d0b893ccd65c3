/**
 * The few DER reads the SNP verifier needs (X.690 §8.1: tag, definite length, contents):
 * VCEK extension values and a CRL's tbsCertList / signature. Every malformed input
 * returns null rather than reading out of bounds.
 */
export interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly contentStart: number;
  /** Offset just past the contents. */
  readonly end: number;
}

export function readTlv(b: Uint8Array, offset: number): Tlv | null {
  if (offset + 2 > b.length) return null;
  const tag = b[offset] as number;
  if ((tag & 0x1f) === 0x1f) return null; // multi-byte tags never occur in what we read
  let len = b[offset + 1] as number;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > b.length) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[p + i] as number);
    p += n;
  }
  if (p + len > b.length) return null;
  return { tag, start: offset, contentStart: p, end: p + len };
}

/** The children of a constructed TLV, or null if they do not tile its contents exactly. */
export function children(b: Uint8Array, parent: Tlv): Tlv[] | null {
  const out: Tlv[] = [];
  let p = parent.contentStart;
  while (p < parent.end) {
    const t = readTlv(b, p);
    if (!t || t.end > parent.end) return null;
    out.push(t);
    p = t.end;
  }
  return out;
}

/** A DER INTEGER (non-negative, up to 2^53) from an extension value, else null. */
export function derUint(b: Uint8Array): number | null {
  const t = readTlv(b, 0);
  if (!t || t.tag !== 0x02 || t.end !== b.length || t.end === t.contentStart) return null;
  let v = 0;
  for (let i = t.contentStart; i < t.end; i++) v = v * 256 + (b[i] as number);
  return (b[t.contentStart] as number) & 0x80 ? null : v;
}

/** The contents of a DER OCTET STRING, else null. */
export function derOctets(b: Uint8Array): Uint8Array | null {
  const t = readTlv(b, 0);
  if (!t || t.tag !== 0x04 || t.end !== b.length) return null;
  return b.subarray(t.contentStart, t.end);
}

/** The text of a DER IA5String / UTF8String / PrintableString, else null. */
export function derString(b: Uint8Array): string | null {
  const t = readTlv(b, 0);
  if (!t || ![0x16, 0x0c, 0x13].includes(t.tag) || t.end !== b.length) return null;
  return new TextDecoder().decode(b.subarray(t.contentStart, t.end));
}

/** Dotted text of an OBJECT IDENTIFIER's contents (X.690 §8.19). */
export function oidToString(content: Uint8Array): string {
  if (content.length === 0) return "";
  const first = content[0] as number;
  const parts: number[] = [Math.min(2, Math.floor(first / 40)), first - 40 * Math.min(2, Math.floor(first / 40))];
  let v = 0;
  for (let i = 1; i < content.length; i++) {
    const b = content[i] as number;
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

/** An X.509 certificate's fields this verifier needs, read straight from its DER (RFC 5280 §4.1). */
export interface CertParts {
  readonly issuerDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  /** extnID -> extnValue contents. */
  readonly extensions: ReadonlyMap<string, Uint8Array>;
}

export function certParts(der: Uint8Array): CertParts | null {
  const cert = readTlv(der, 0);
  if (!cert || cert.tag !== 0x30) return null;
  const top = children(der, cert);
  const tbs = top?.[0];
  if (!tbs || tbs.tag !== 0x30) return null;
  const f = children(der, tbs);
  if (!f) return null;
  const base = f[0]?.tag === 0xa0 ? 1 : 0;
  const issuer = f[base + 2];
  const subject = f[base + 4];
  if (!issuer || !subject) return null;
  const extensions = new Map<string, Uint8Array>();
  const wrapper = f.find((t) => t.tag === 0xa3);
  const list = wrapper ? children(der, wrapper)?.[0] : undefined;
  for (const ext of list ? (children(der, list) ?? []) : []) {
    const parts = children(der, ext);
    const oid = parts?.[0];
    const value = parts?.[parts.length - 1];
    if (!oid || oid.tag !== 0x06 || !value || value.tag !== 0x04) continue;
    extensions.set(oidToString(der.subarray(oid.contentStart, oid.end)), der.subarray(value.contentStart, value.end));
  }
  return { issuerDer: der.subarray(issuer.start, issuer.end), subjectDer: der.subarray(subject.start, subject.end), extensions };
}
