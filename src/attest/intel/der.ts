/**
 * A minimal DER (ITU-T X.690) TLV walker: just enough to take a CRL apart (to get its
 * signed TBS bytes, dates and revoked serials) and to read Intel's SGX extensions from a
 * PCK certificate. Any malformed encoding throws a plain DerError that callers turn into
 * their own AttestationError code.
 */
export class DerError extends Error {
  override readonly name = "DerError";
}

export interface Tlv {
  readonly tag: number;
  /** The whole element, header included. */
  readonly raw: Uint8Array;
  readonly value: Uint8Array;
}

export function readTlv(buf: Uint8Array, pos: number): Tlv {
  const tag = buf[pos];
  let lenByte = buf[pos + 1];
  if (tag === undefined || lenByte === undefined) throw new DerError("DER truncated");
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte DER tags are not used here");
  let len = 0;
  let hdr = 2;
  if (lenByte & 0x80) {
    const n = lenByte & 0x7f;
    if (n === 0 || n > 4) throw new DerError("bad DER length");
    for (let i = 0; i < n; i++) {
      lenByte = buf[pos + 2 + i];
      if (lenByte === undefined) throw new DerError("DER truncated");
      len = len * 256 + lenByte;
    }
    hdr += n;
  } else {
    len = lenByte;
  }
  const end = pos + hdr + len;
  if (end > buf.length) throw new DerError("DER element runs past its container");
  return { tag, raw: buf.subarray(pos, end), value: buf.subarray(pos + hdr, end) };
}

/** The children of a constructed element, which must exactly fill it. */
export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = 0; p < t.value.length; ) {
    const c = readTlv(t.value, p);
    out.push(c);
    p += c.raw.length;
  }
  return out;
}

export function parseDer(buf: Uint8Array): Tlv {
  const t = readTlv(buf, 0);
  if (t.raw.length !== buf.length) throw new DerError("trailing bytes after DER element");
  return t;
}

/** UTCTime (0x17) or GeneralizedTime (0x18) to a Date (RFC 5280 §4.1.2.5). */
export function derTime(t: Tlv): Date {
  const s = new TextDecoder().decode(t.value);
  let m: RegExpExecArray | null;
  if (t.tag === 0x17 && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s))) {
    const yy = Number(m[1]);
    return new Date(Date.UTC(yy >= 50 ? 1900 + yy : 2000 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  if (t.tag === 0x18 && (m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s))) {
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  throw new DerError("bad DER time");
}

/** OBJECT IDENTIFIER content to dotted text. */
export function oidText(value: Uint8Array): string {
  const first = value[0];
  if (first === undefined) throw new DerError("empty OID");
  const parts = [Math.floor(first / 40), first % 40];
  let n = 0;
  for (let i = 1; i < value.length; i++) {
    const b = value[i] as number;
    n = n * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(n);
      n = 0;
    }
  }
  return parts.join(".");
}

/** A non-negative INTEGER's content as a number (SVNs are small). */
export function derUint(value: Uint8Array): number {
  let n = 0;
  for (const b of value) n = n * 256 + b;
  return n;
}
