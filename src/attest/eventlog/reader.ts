import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";

/**
 * Bounds-checked little-endian reader for binary evidence. Every overrun becomes an
 * AttestationError with the caller's code, so parsers of untrusted bytes never throw
 * RangeError or read past a buffer.
 */
export class ByteReader {
  private pos = 0;

  constructor(
    readonly bytes: Uint8Array,
    private readonly code: string = AttestCode.EVENT_LOG_INVALID,
  ) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.bytes.length) {
      throw new AttestationError(this.code, `truncated: ${what} needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`);
    }
  }

  u8(what = "u8"): number {
    this.need(1, what);
    return this.bytes[this.pos++] ?? 0;
  }

  u16(what = "u16"): number {
    this.need(2, what);
    const v = (this.bytes[this.pos] ?? 0) | ((this.bytes[this.pos + 1] ?? 0) << 8);
    this.pos += 2;
    return v;
  }

  u32(what = "u32"): number {
    this.need(4, what);
    const b = this.bytes;
    const p = this.pos;
    const v = ((b[p] ?? 0) | ((b[p + 1] ?? 0) << 8) | ((b[p + 2] ?? 0) << 16) | ((b[p + 3] ?? 0) << 24)) >>> 0;
    this.pos += 4;
    return v;
  }

  u64(what = "u64"): bigint {
    const lo = BigInt(this.u32(what));
    const hi = BigInt(this.u32(what));
    return (hi << 32n) | lo;
  }

  take(n: number, what = "bytes"): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  peekU32(): number | null {
    if (this.remaining < 4) return null;
    const b = this.bytes;
    const p = this.pos;
    return ((b[p] ?? 0) | ((b[p + 1] ?? 0) << 8) | ((b[p + 2] ?? 0) << 16) | ((b[p + 3] ?? 0) << 24)) >>> 0;
  }
}
