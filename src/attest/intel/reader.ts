/**
 * A bounds-checked little-endian cursor over quote bytes. Every read past the end is a
 * QUOTE_MALFORMED AttestationError, so parsers never index out of range and never
 * return half-read structures (quotes are little-endian throughout: Intel TDX DCAP
 * Quoting Library API, Appendix A "Quote Format").
 */
import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";

export function malformed(message: string, details?: Record<string, unknown>): AttestationError {
  return new AttestationError(AttestCode.QUOTE_MALFORMED, message, details ? { details } : undefined);
}

export class ByteReader {
  private pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  bytes(n: number, what: string): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0 || this.pos + n > this.end) {
      throw malformed(`quote truncated: ${what} needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u16(what: string): number {
    const b = this.bytes(2, what);
    return (b[0] ?? 0) | ((b[1] ?? 0) << 8);
  }

  u32(what: string): number {
    const b = this.bytes(4, what);
    return ((b[0] ?? 0) | ((b[1] ?? 0) << 8) | ((b[2] ?? 0) << 16)) + (b[3] ?? 0) * 0x1000000;
  }

  /** A copy-free view of bytes [from, to) of the underlying buffer. */
  slice(from: number, to: number): Uint8Array {
    return this.buf.subarray(from, to);
  }

  /** A sub-reader over the next n bytes; this reader moves past them. */
  sub(n: number, what: string): ByteReader {
    const start = this.pos;
    this.bytes(n, what);
    return new ByteReader(this.buf, start, start + n);
  }

  expectEnd(what: string): void {
    if (this.remaining !== 0) throw malformed(`${what} has ${this.remaining} unexpected trailing bytes`);
  }
}
