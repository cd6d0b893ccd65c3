/**
 * C2SP tlog-tiles layout: hashes in tiles of height 8 (256 per full tile), level L
 * holding the hashes of perfect subtrees of 256^L leaves; entries in bundles of 256
 * (each a big-endian uint16 length and the bytes). Paths:
 *   tile/<L>/<N>[.p/<W>]   tile/entries/<N>[.p/<W>]   checkpoint
 * where N is written in zero-padded groups of three digits, all but the last with "x".
 */
import { HASH_SIZE, nodeHash, splitPoint, type Hash, type SubtreeHasher } from "./merkle.js";
import { TransparencyCode, TransparencyError } from "./errors.js";

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 1 << TILE_HEIGHT;

export function encodeTileIndex(n: number): string {
  const digits = String(n);
  const padded = digits.padStart(Math.ceil(digits.length / 3) * 3, "0");
  const groups = padded.match(/.{3}/g) ?? ["000"];
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join("/");
}

export function tilePath(level: number | "entries", index: number, width = TILE_WIDTH): string {
  const base = `tile/${level}/${encodeTileIndex(index)}`;
  return width === TILE_WIDTH ? base : `${base}.p/${width}`;
}

/** How many hashes level L of a tree of `size` leaves has (complete subtrees of 256^L leaves). */
export function levelCount(level: number, size: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/** The tiles (level, index, width) of a tree, for writing a static log. */
export function* tilesOf(size: number): Generator<{ level: number; index: number; width: number }> {
  for (let level = 0; levelCount(level, size) > 0; level++) {
    const count = levelCount(level, size);
    for (let index = 0; index * TILE_WIDTH < count; index++) {
      yield { level, index, width: Math.min(TILE_WIDTH, count - index * TILE_WIDTH) };
    }
  }
}

export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  const total = entries.reduce((n, e) => n + 2 + e.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const e of entries) {
    if (e.length > 0xffff) throw new TransparencyError(TransparencyCode.ENTRY_INVALID, "a log entry is at most 65535 bytes");
    out[o] = e.length >> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

export function decodeEntryBundle(bytes: Uint8Array, expected: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (o + 2 > bytes.length) throw new TransparencyError(TransparencyCode.TILE_INVALID, "truncated entry bundle");
    const len = ((bytes[o] as number) << 8) | (bytes[o + 1] as number);
    if (o + 2 + len > bytes.length) throw new TransparencyError(TransparencyCode.TILE_INVALID, "truncated entry in bundle");
    out.push(bytes.slice(o + 2, o + 2 + len));
    o += 2 + len;
  }
  if (out.length !== expected) throw new TransparencyError(TransparencyCode.TILE_INVALID, `entry bundle has ${out.length} entries, expected ${expected}`);
  return out;
}

/** Thrown inside a synchronous proof computation when a tile is not loaded yet. */
export class NeedTile extends Error {
  constructor(readonly path: string) {
    super(`tile ${path} not loaded`);
  }
}

/**
 * A SubtreeHasher over tiles of a tree of `size` leaves. Tiles come from an untrusted
 * server: nothing read here is trusted until a proof computed from it verifies against
 * a signed checkpoint's root.
 */
export class TileHasher implements SubtreeHasher {
  private readonly tiles = new Map<string, Uint8Array>();
  constructor(readonly size: number) {}

  /** The tile holding hash `i` of level `level` (256^level leaves each). */
  tileFor(level: number, i: number): string {
    const index = Math.floor(i / TILE_WIDTH);
    const width = Math.min(TILE_WIDTH, levelCount(level, this.size) - index * TILE_WIDTH);
    return tilePath(level, index, width);
  }

  add(path: string, bytes: Uint8Array): void {
    const m = /\.p\/(\d+)$/.exec(path);
    const width = m ? Number(m[1]) : TILE_WIDTH;
    if (bytes.length !== width * HASH_SIZE) throw new TransparencyError(TransparencyCode.TILE_INVALID, `tile ${path} has ${bytes.length} bytes, expected ${width * HASH_SIZE}`);
    this.tiles.set(path, bytes);
  }

  private stored(level: number, i: number): Hash {
    const path = this.tileFor(level, i);
    const tile = this.tiles.get(path);
    if (!tile) throw new NeedTile(path);
    const o = (i % TILE_WIDTH) * HASH_SIZE;
    return tile.slice(o, o + HASH_SIZE);
  }

  /** Hash of the perfect subtree of height h at index i. */
  private perfect(h: number, i: number): Hash {
    const level = Math.floor(h / TILE_HEIGHT);
    const r = h - level * TILE_HEIGHT;
    if (r === 0) return this.stored(level, i);
    const span = 1 << r;
    let row: Hash[] = [];
    for (let j = i * span; j < (i + 1) * span; j++) row.push(this.stored(level, j));
    while (row.length > 1) {
      const up: Hash[] = [];
      for (let j = 0; j < row.length; j += 2) up.push(nodeHash(row[j] as Hash, row[j + 1] as Hash));
      row = up;
    }
    return row[0] as Hash;
  }

  rangeHash(start: number, end: number): Hash {
    const n = end - start;
    if ((n & (n - 1)) === 0 && start % n === 0) return this.perfect(Math.log2(n), start / n);
    const k = splitPoint(n);
    return nodeHash(this.rangeHash(start, start + k), this.rangeHash(start + k, end));
  }

  /** The leaf hash at `index` as the tiles claim it. */
  leafHashAt(index: number): Hash {
    return this.stored(0, index);
  }
}

/** Runs a synchronous computation over tiles, fetching each missing tile and retrying. */
export async function withTiles<T>(hasher: TileHasher, fetchTile: (path: string) => Promise<Uint8Array>, compute: () => T): Promise<T> {
  for (let attempts = 0; attempts < 10_000; attempts++) {
    try {
      return compute();
    } catch (e) {
      if (!(e instanceof NeedTile)) throw e;
      hasher.add(e.path, await fetchTile(e.path));
    }
  }
  throw new TransparencyError(TransparencyCode.TILE_INVALID, "too many tiles needed for one proof");
}
