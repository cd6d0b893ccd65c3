/**
 * RFC 9162 §2.1 Merkle Tree Hash over SHA-256, with inclusion and consistency proofs.
 * Generation works over any `SubtreeHasher` (an in-memory tree, or tiles read from a
 * static log), verification is pure and never throws on bad input: it answers false.
 */
import { sha256 } from "@noble/hashes/sha2.js";

export type Hash = Uint8Array;
export const HASH_SIZE = 32;
const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** MTH({}) = SHA-256() (RFC 9162 §2.1.1). */
export const EMPTY_ROOT: Hash = sha256(new Uint8Array(0));

export function leafHash(data: Uint8Array): Hash {
  return sha256.create().update(LEAF_PREFIX).update(data).digest();
}

export function nodeHash(left: Hash, right: Hash): Hash {
  return sha256.create().update(NODE_PREFIX).update(left).update(right).digest();
}

/**
 * The two hashes a tree is built from, so a node can build its own with OpenSSL
 * (./merkle-node.ts) while this file stays browser-safe. Either gives the same bytes.
 */
export interface TreeHashes {
  /** SHA-256(0x00 || ...parts): a leaf's hash over the concatenation of its parts. */
  leaf(...parts: readonly Uint8Array[]): Hash;
  /** SHA-256(0x01 || left || right). */
  node(left: Hash, right: Hash): Hash;
}

/** TreeHashes by @noble/hashes (browsers, and the default everywhere). */
export const nobleTreeHashes: TreeHashes = {
  leaf: (...parts) => {
    const h = sha256.create().update(LEAF_PREFIX);
    for (const p of parts) h.update(p);
    return h.digest();
  },
  node: nodeHash,
};

/** The largest power of two strictly less than n (n >= 2): RFC 9162's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Gives MTH(D[start:end]) of one tree; ranges asked for are always non-empty. */
export interface SubtreeHasher {
  readonly size: number;
  rangeHash(start: number, end: number): Hash;
}

/** Root of a list of leaf hashes (reference computation, O(n)). */
export function rootOf(leaves: readonly Hash[]): Hash {
  if (leaves.length === 0) return EMPTY_ROOT;
  const rec = (lo: number, hi: number): Hash => {
    if (hi - lo === 1) return leaves[lo] as Hash;
    const k = splitPoint(hi - lo);
    return nodeHash(rec(lo, lo + k), rec(lo + k, hi));
  };
  return rec(0, leaves.length);
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]), for the tree's prefix of `size` leaves. */
export function inclusionProof(tree: SubtreeHasher, index: number, size = tree.size): Hash[] {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size || size > tree.size) {
    throw new RangeError(`no leaf ${index} in a tree of ${size}`);
  }
  const path: Hash[] = [];
  const rec = (m: number, lo: number, hi: number): void => {
    if (hi - lo === 1) return;
    const k = splitPoint(hi - lo);
    if (m < k) {
      rec(m, lo, lo + k);
      path.push(tree.rangeHash(lo + k, hi));
    } else {
      rec(m - k, lo + k, hi);
      path.push(tree.rangeHash(lo, lo + k));
    }
  };
  rec(index, 0, size);
  return path;
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]). Empty when m is 0 or m equals n. */
export function consistencyProof(tree: SubtreeHasher, first: number, second = tree.size): Hash[] {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second || second > tree.size) {
    throw new RangeError(`no consistency proof from ${first} to ${second}`);
  }
  if (first === 0 || first === second) return [];
  const proof: Hash[] = [];
  const rec = (m: number, lo: number, hi: number, whole: boolean): void => {
    const n = hi - lo;
    if (m === n) {
      if (!whole) proof.push(tree.rangeHash(lo, hi));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      rec(m, lo, lo + k, whole);
      proof.push(tree.rangeHash(lo + k, hi));
    } else {
      rec(m - k, lo + k, hi, false);
      proof.push(tree.rangeHash(lo, lo + k));
    }
  };
  rec(first, 0, second, true);
  return proof;
}

function isHash(h: unknown): h is Hash {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

function sameHash(a: Hash, b: Hash): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}

/** RFC 9162 §2.1.3.2: the root an inclusion proof implies, or null when it cannot be one. */
export function rootFromInclusionProof(leaf: Hash, index: number, size: number, proof: readonly Hash[]): Hash | null {
  if (!isHash(leaf) || !Array.isArray(proof) || !proof.every(isHash)) return null;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

export function verifyInclusion(leaf: Hash, index: number, size: number, proof: readonly Hash[], root: Hash): boolean {
  if (!isHash(root)) return false;
  const r = rootFromInclusionProof(leaf, index, size, proof);
  return r !== null && sameHash(r, root);
}

/** RFC 9162 §2.1.4.2. */
export function verifyConsistency(first: number, second: number, firstRoot: Hash, secondRoot: Hash, proof: readonly Hash[]): boolean {
  if (!isHash(firstRoot) || !isHash(secondRoot) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) return false;
  if (first === second) return proof.length === 0 && sameHash(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0 && sameHash(firstRoot, EMPTY_ROOT);
  if (proof.length === 0) return false;
  let path = [...proof];
  // Step 2: when first is an exact power of two, its root is the first node of the path.
  if ((first & (first - 1)) === 0) path = [firstRoot, ...path];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Hash;
  let sr = path[0] as Hash;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && sameHash(fr, firstRoot) && sameHash(sr, secondRoot);
}
