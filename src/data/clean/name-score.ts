/**
 * How much a word looks like a personal name by its letters alone: a logistic regression
 * on hashed character n-grams (name-score-features.ts) trained offline by
 * scripts/train-name-scorer.ts on the shipped name lists against the English word list,
 * places and company words (never on an evaluation set). The names layer asks it only
 * about capitalised words no list knows, where a name is grammatical (detect-names.ts).
 * The weights' digest is part of the pipeline measurement.
 */
import { createHash } from "node:crypto";
import { nameFeatures } from "./name-score-features.js";
import { NAME_SCORE_WEIGHTS } from "./name-score-weights.js";

let weights: Int8Array | null = null;

function load(): Int8Array {
  if (!weights) {
    const b = Buffer.from(NAME_SCORE_WEIGHTS.int8, "base64");
    weights = new Int8Array(b.buffer, b.byteOffset, b.length);
  }
  return weights;
}

/** The log-odds that a lower-cased word is a name (above 0: more likely a name). */
export function nameLogit(lower: string): number {
  const w = load();
  let s = 0;
  for (const k of nameFeatures(lower)) s += w[k] ?? 0;
  return NAME_SCORE_WEIGHTS.bias + s * NAME_SCORE_WEIGHTS.scale;
}

/** SHA-256 of the weights and their parameters, for the pipeline measurement. */
export function nameScoreDigest(): string {
  const { buckets, bias, scale, int8 } = NAME_SCORE_WEIGHTS;
  return createHash("sha256").update(JSON.stringify({ buckets, bias, scale, int8 })).digest("hex");
}
