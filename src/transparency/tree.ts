/**
 * An append-only in-memory Merkle tree that keeps every complete subtree hash (levels),
 * so appends are O(log n) and any range hash or proof needs no rehashing of leaves.
 */
import { EMPTY_ROOT, nodeHash, splitPoint, type Hash, type SubtreeHasher } from "./merkle.js";

export class MerkleTree implements SubtreeHasher {
  /** levels[h][i] = hash of the perfect subtree of 2^h leaves starting at leaf i·2^h. */
  private readonly levels: Hash[][] = [[]];

  constructor(leafHashes: Iterable<Hash> = []) {
    for (const h of leafHashes) this.append(h);
  }

  get size(): number {
    return (this.levels[0] as Hash[]).length;
  }

  /** Appends a leaf hash (already `leafHash(data)`), returns its index. */
  append(leaf: Hash): number {
    const index = this.size;
    (this.levels[0] as Hash[]).push(leaf);
    let i = index;
    for (let h = 0; i % 2 === 1; h++, i = Math.floor(i / 2)) {
      const level = this.levels[h] as Hash[];
      const up = (this.levels[h + 1] ??= []);
      up.push(nodeHash(level[i - 1] as Hash, level[i] as Hash));
    }
    return index;
  }

  leaf(index: number): Hash {
    const h = (this.levels[0] as Hash[])[index];
    if (!h) throw new RangeError(`no leaf ${index}`);
    return h;
  }

  rangeHash(start: number, end: number): Hash {
    if (start < 0 || end > this.size || start >= end) throw new RangeError(`bad range [${start}, ${end})`);
    const n = end - start;
    if ((n & (n - 1)) === 0 && start % n === 0) {
      const h = Math.log2(n);
      const node = this.levels[h]?.[start / n];
      if (node) return node;
    }
    const k = splitPoint(n);
    return nodeHash(this.rangeHash(start, start + k), this.rangeHash(start + k, end));
  }

  root(size = this.size): Hash {
    return size === 0 ? EMPTY_ROOT : this.rangeHash(0, size);
  }

  /** The stored perfect-subtree hash at level h, index i (for writing tiles). */
  node(h: number, i: number): Hash | undefined {
    return this.levels[h]?.[i];
  }
}
