/**
 * An append-only in-memory Merkle tree that keeps every complete subtree hash (levels),
 * so appends are O(log n) and any range hash or proof needs no rehashing of leaves.
 * Each level is packed in a ByteColumn (./byte-column.ts): a node's receipt log holds one
 * leaf per request for the whole boot, so it must cost its 32 bytes, not a heap object.
 */
import { ByteColumn } from "./byte-column.js";
import { EMPTY_ROOT, HASH_SIZE, nobleTreeHashes, splitPoint, type Hash, type SubtreeHasher, type TreeHashes } from "./merkle.js";

export class MerkleTree implements SubtreeHasher {
  /** levels[h] entry i = hash of the perfect subtree of 2^h leaves starting at leaf i·2^h. */
  private readonly levels: ByteColumn[] = [new ByteColumn(HASH_SIZE)];

  private readonly nodeHash: TreeHashes["node"];

  /** `hashes`: whose SHA-256 builds the inner nodes (the same bytes either way; ./merkle.ts). */
  constructor(leafHashes: Iterable<Hash> = [], hashes: TreeHashes = nobleTreeHashes) {
    this.nodeHash = hashes.node;
    for (const h of leafHashes) this.append(h);
  }

  get size(): number {
    return (this.levels[0] as ByteColumn).length;
  }

  /** Appends a leaf hash (already `leafHash(data)`), returns its index. */
  append(leaf: Hash): number {
    const index = (this.levels[0] as ByteColumn).push(leaf);
    let i = index;
    for (let h = 0; i % 2 === 1; h++, i = Math.floor(i / 2)) {
      const level = this.levels[h] as ByteColumn;
      const up = (this.levels[h + 1] ??= new ByteColumn(HASH_SIZE));
      up.push(this.nodeHash(level.view(i - 1), level.view(i)));
    }
    return index;
  }

  leaf(index: number): Hash {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`no leaf ${index}`);
    return (this.levels[0] as ByteColumn).at(index);
  }

  rangeHash(start: number, end: number): Hash {
    return this.range(start, end).slice();
  }

  /** rangeHash without the copy: a stored node is returned as a view (read-only). */
  private range(start: number, end: number): Hash {
    if (start < 0 || end > this.size || start >= end) throw new RangeError(`bad range [${start}, ${end})`);
    const n = end - start;
    if ((n & (n - 1)) === 0 && start % n === 0) {
      const level = this.levels[Math.log2(n)];
      if (level && start / n < level.length) return level.view(start / n);
    }
    const k = splitPoint(n);
    return this.nodeHash(this.range(start, start + k), this.range(start + k, end));
  }

  root(size = this.size): Hash {
    return size === 0 ? EMPTY_ROOT.slice() : this.rangeHash(0, size);
  }

  /** The stored perfect-subtree hash at level h, index i (for writing tiles). */
  node(h: number, i: number): Hash | undefined {
    const level = this.levels[h];
    return level && Number.isInteger(i) && i >= 0 && i < level.length ? level.at(i) : undefined;
  }
}
