/**
 * A reader for the SCALE codec (Parity's parity-scale-codec, which dstack uses for its
 * `VersionedAttestation`): little-endian fixed-width integers, "compact" integers for
 * lengths (2 low bits select 1, 2, 4 or 4+n bytes), Vec<T> = compact length + items,
 * String = Vec<u8> of UTF-8, enums = 1-byte variant index + fields.
 * Every read is bounds-checked; a short or inconsistent input is EVIDENCE_UNREADABLE.
 */
import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";

const MAX_LEN = 64 * 1024 * 1024;

export class ScaleReader {
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  fail(what: string): never {
    throw new AttestationError(AttestCode.EVIDENCE_UNREADABLE, `SCALE: ${what} at byte ${this.pos}`);
  }

  take(n: number, what = "bytes"): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.remaining) this.fail(`${what} run past the end`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u8(): number {
    return this.take(1, "u8")[0] ?? 0;
  }

  u32(): number {
    const b = this.take(4, "u32");
    return ((b[0] ?? 0) | ((b[1] ?? 0) << 8) | ((b[2] ?? 0) << 16) | ((b[3] ?? 0) << 24)) >>> 0;
  }

  /** SCALE compact integer (as used for lengths); refuses values above 64 MiB. */
  compact(): number {
    const first = this.u8();
    const mode = first & 3;
    let v: number;
    if (mode === 0) v = first >>> 2;
    else if (mode === 1) v = (first | (this.u8() << 8)) >>> 2;
    else if (mode === 2) {
      const rest = this.take(3, "compact");
      v = ((first | ((rest[0] ?? 0) << 8) | ((rest[1] ?? 0) << 16) | ((rest[2] ?? 0) << 24)) >>> 0) >>> 2;
    } else {
      const n = (first >>> 2) + 4;
      const b = this.take(n, "compact");
      v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + (b[i] ?? 0);
    }
    if (v > MAX_LEN) this.fail(`length ${v} is implausible`);
    return v;
  }

  bytesVec(what = "Vec<u8>"): Uint8Array {
    return this.take(this.compact(), what);
  }

  string(what = "String"): string {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(this.bytesVec(what));
    } catch (e) {
      if (e instanceof AttestationError) throw e;
      return this.fail(`${what} is not UTF-8`);
    }
  }

  vec<T>(item: (r: ScaleReader) => T): T[] {
    const n = this.compact();
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item(this));
    return out;
  }

  end(what: string): void {
    if (this.remaining !== 0) this.fail(`${this.remaining} bytes left after ${what}`);
  }
}
