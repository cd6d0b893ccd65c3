/**
 * An append-only column of fixed-width byte strings (32-byte hashes, salts, one-byte
 * codes) packed into fixed-size chunks. A log that lives as long as the process keeps one
 * entry per request: as one Uint8Array each, a 32-byte hash costs ~200 bytes of heap
 * objects (the view and its ArrayBuffer) that every collection walks; packed, it costs its
 * 32 bytes outside the heap. Chunks are never moved or reused, so a view stays valid.
 */
export class ByteColumn {
  private readonly chunks: Uint8Array[] = [];
  private count = 0;

  constructor(
    readonly width: number,
    private readonly perChunk = 256,
  ) {
    if (!Number.isInteger(width) || width < 1 || !Number.isInteger(perChunk) || perChunk < 1) throw new RangeError("width and perChunk must be positive integers");
  }

  get length(): number {
    return this.count;
  }

  /** Appends a copy of `bytes` (exactly `width` long) and returns its index. */
  push(bytes: Uint8Array): number {
    if (bytes.length !== this.width) throw new RangeError(`an entry is ${this.width} bytes, not ${bytes.length}`);
    const i = this.count;
    const at = i % this.perChunk;
    if (at === 0) this.chunks.push(new Uint8Array(this.width * this.perChunk));
    (this.chunks[this.chunks.length - 1] as Uint8Array).set(bytes, at * this.width);
    this.count++;
    return i;
  }

  /** A view of entry i, valid as long as the column: callers must not write into it. */
  view(i: number): Uint8Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`no entry ${i}`);
    const chunk = this.chunks[Math.floor(i / this.perChunk)] as Uint8Array;
    const o = (i % this.perChunk) * this.width;
    return chunk.subarray(o, o + this.width);
  }

  /** A copy of entry i. */
  at(i: number): Uint8Array {
    return this.view(i).slice();
  }
}
