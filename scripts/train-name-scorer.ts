/**
 * Trains the name-likeness scorer (src/data/clean/name-score.ts) offline and writes its
 * weights to src/data/clean/name-score-weights.ts. Data: only the lists the cleaner
 * already ships (lexicon.ts), never an evaluation set. Positives: the given and family
 * names of @faker-js/faker's locales (and compromise's names) in Latin script that no
 * English list has (the scorer is only asked about words no list knows); negatives: the
 * English word list, compromise's common words, places and the names layer's company
 * words that no name list has. Logistic regression on hashed character n-grams
 * (name-score-features.ts), classes weighted equally, trained by AdaGrad; a tenth of the
 * words (by hash) is held back to report accuracy. Deterministic: same lists, same file.
 * `node --import tsx scripts/train-name-scorer.ts`
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { lexicon } from "../src/data/clean/lexicon.js";
import { ORG_WORDS } from "../src/data/clean/name-rules.js";
import { NAME_SCORE_BUCKETS, nameFeatures } from "../src/data/clean/name-score-features.js";

const LATIN = /^\p{Script=Latin}{3,}$/u;
const lex = lexicon();
const isName = (w: string): boolean => lex.firstNames.has(w) || lex.lastNames.has(w);
const isWord = (w: string): boolean => lex.englishWords.has(w) || lex.commonWords.has(w);
const pos = new Set<string>();
for (const w of [...lex.firstNames, ...lex.lastNames]) if (LATIN.test(w) && !isWord(w) && !lex.places.has(w)) pos.add(w);
const neg = new Set<string>();
for (const w of [...lex.englishWords, ...lex.commonWords, ...lex.places, ...ORG_WORDS]) if (LATIN.test(w) && !isName(w)) neg.add(w);

// Held back: a tenth of the words by a hash of the word (not of its position).
const heldBack = (w: string): boolean => createHash("sha256").update(w).digest()[0]! < 26;
type Ex = { f: number[]; y: number };
const train: Ex[] = [];
const test: Ex[] = [];
for (const [set, y] of [[pos, 1], [neg, 0]] as const) {
  for (const w of [...set].sort()) (heldBack(w) ? test : train).push({ f: nameFeatures(w), y });
}
// A fixed shuffle (xorshift) so the file is reproducible.
let seed = 0x9e3779b9;
const rand = (): number => {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 2 ** 32;
};
for (let i = train.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [train[i], train[j]] = [train[j]!, train[i]!];
}
const nPos = train.filter((e) => e.y === 1).length;
const cw = [train.length / (2 * (train.length - nPos)), train.length / (2 * nPos)];
const w = new Float64Array(NAME_SCORE_BUCKETS);
const g2 = new Float64Array(NAME_SCORE_BUCKETS).fill(1e-8);
let bias = 0;
let gb = 1e-8;
const LR = 0.3;
const L2 = 1e-6;
const logit = (f: number[]): number => f.reduce((s, k) => s + w[k]!, bias);
for (let epoch = 0; epoch < 6; epoch++) {
  for (const e of train) {
    const p = 1 / (1 + Math.exp(-logit(e.f)));
    const g = (p - e.y) * cw[e.y]!;
    for (const k of e.f) {
      const gk = g + L2 * w[k]!;
      g2[k]! += gk * gk;
      w[k]! -= (LR * gk) / Math.sqrt(g2[k]!);
    }
    gb += g * g;
    bias -= (LR * g) / Math.sqrt(gb);
  }
}
// int8 weights with one scale: 16 KiB instead of 128.
const max = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const scale = max / 127;
const q = Int8Array.from(w, (v) => Math.round(v / scale));
const qlogit = (f: number[]): number => f.reduce((s, k) => s + q[k]! * scale, bias);
for (const t of [0, 1, 2]) {
  let tp = 0, fp = 0, fn = 0, tn = 0;
  for (const e of test) {
    const yes = qlogit(e.f) >= t;
    if (yes && e.y) tp++; else if (yes) fp++; else if (e.y) fn++; else tn++;
  }
  console.log(`held-back words, logit >= ${t}: names recalled ${(100 * tp / (tp + fn)).toFixed(1)}%, non-names passed ${(100 * fp / (fp + tn)).toFixed(1)}% (${tp + fn} names, ${fp + tn} non-names)`);
}
const b64 = Buffer.from(q.buffer).toString("base64");
const file = `/**
 * Weights of the name-likeness scorer, written by scripts/train-name-scorer.ts from the
 * shipped name and word lists (${pos.size} names, ${neg.size} non-names). Do not edit.
 */
export const NAME_SCORE_WEIGHTS = {
  buckets: ${NAME_SCORE_BUCKETS},
  bias: ${bias},
  scale: ${scale},
  int8: "${b64}",
} as const;
`;
writeFileSync(new URL("../src/data/clean/name-score-weights.ts", import.meta.url), file);
console.log(`wrote ${q.length} int8 weights (${file.length} bytes), bias ${bias.toFixed(3)}, scale ${scale.toExponential(3)}`);
