/**
 * The features of the name-likeness scorer (name-score.ts), shared with its trainer
 * (scripts/train-name-scorer.ts) so both hash a word the same way: the character 2- to
 * 4-grams of the lower-cased word between boundary marks ("^ko", "ski$"), each hashed
 * (FNV-1a, 32 bits) into one of NAME_SCORE_BUCKETS weights.
 */
export const NAME_SCORE_BUCKETS = 1 << 14;
export const NAME_SCORE_NGRAMS = [2, 3, 4] as const;

function fnv1a(s: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The buckets of a lower-cased word's n-grams (a bucket may repeat). */
export function nameFeatures(lower: string): number[] {
  const s = `^${lower}$`;
  const out: number[] = [];
  for (const n of NAME_SCORE_NGRAMS) {
    for (let i = 0; i + n <= s.length; i++) out.push((fnv1a(s, i, i + n) + n) % NAME_SCORE_BUCKETS);
  }
  return out;
}
