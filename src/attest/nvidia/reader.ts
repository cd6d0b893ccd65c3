import { AttestationError } from "../../errors.js";

/**
 * A bounds-checked little-endian cursor. Every read past the end throws an
 * AttestationError with the code the owning parser chose, so fuzzed input can never
 * surface a RangeError or a silent short slice.
 */
export class ByteReader {
  private pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly code: string,
    private readonly what: string,
  ) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  fail(message: string): never {
    throw new AttestationError(this.code, `${this.what}: ${message}`, { details: { offset: this.pos } });
  }

  take(n: number, field: string): Uint8Array {
    if (n < 0 || this.pos + n > this.bytes.length) this.fail(`truncated at ${field} (need ${n} bytes at offset ${this.pos}, have ${this.remaining})`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u8(field: string): number {
    return this.take(1, field)[0] as number;
  }

  u16(field: string): number {
    const b = this.take(2, field);
    return (b[0] as number) | ((b[1] as number) << 8);
  }

  u24(field: string): number {
    const b = this.take(3, field);
    return (b[0] as number) | ((b[1] as number) << 8) | ((b[2] as number) << 16);
  }
}
