/**
 * Exact and near duplicates. Exact: SHA-256 of the whitespace- and case-normalised text.
 * Near: Jaccard similarity of word 3-shingle sets estimated by MinHash (Broder 1997)
 * with 64 seeded 32-bit hashes, compared against every kept record's signature — fine
 * for a contribution's few thousand records; an LSH index is the step up for more.
 */
import { createHash } from "node:crypto";

export const PERMUTATIONS = 64;
export const SEEDS = Array.from({ length: PERMUTATIONS }, (_, i) => (Math.imul(i + 1, 0x9e3779b1) >>> 0) ^ 0x85ebca6b);

export function normalise(text: string): string {
  return text.toLowerCase().replace(/\s+/g, " ").trim();
}

export function exactKey(text: string): string {
  return createHash("sha256").update(normalise(text)).digest("hex");
}

// FNV-1a over a string, then a per-seed murmur-style finaliser.
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
function mix(h: number, seed: number): number {
  let x = (h ^ seed) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export function minhash(text: string): Uint32Array {
  const words = normalise(text).split(" ");
  const sig = new Uint32Array(PERMUTATIONS).fill(0xffffffff);
  const n = Math.max(1, words.length - 2);
  for (let i = 0; i < n; i++) {
    const h = fnv(words.slice(i, i + 3).join(" "));
    for (let k = 0; k < PERMUTATIONS; k++) {
      const v = mix(h, SEEDS[k] ?? 0);
      if (v < (sig[k] ?? 0)) sig[k] = v;
    }
  }
  return sig;
}

export function similarity(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let k = 0; k < PERMUTATIONS; k++) if (a[k] === b[k]) same++;
  return same / PERMUTATIONS;
}

export type DuplicateVerdict = "new" | "exact" | "near";

/** Remembers what was kept; `check` says whether a cleaned text repeats one. */
export class Deduper {
  private readonly exact = new Set<string>();
  private readonly sigs: Uint32Array[] = [];
  constructor(private readonly threshold = 0.8) {}

  check(text: string): DuplicateVerdict {
    const key = exactKey(text);
    if (this.exact.has(key)) return "exact";
    const sig = minhash(text);
    if (this.sigs.some((s) => similarity(s, sig) >= this.threshold)) return "near";
    this.exact.add(key);
    this.sigs.push(sig);
    return "new";
  }
}
