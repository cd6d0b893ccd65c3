/**
 * The pipeline's measurement: a canonical description of exactly what cleans the data —
 * the cleaner's version, its configuration (layers, risk threshold, duplicate threshold),
 * every rule (each detector module's exported patterns and word lists), a digest of the
 * word lists built from packages, the digest of the name-likeness scorer's weights
 * (name-score.ts), and the model's hash when one is configured — hashed
 * into one SHA-256. The node measures it into the attestation (the app manifest's
 * `data_pipeline` entry, which the report's info carries and, on dstack, the RTMR3 event
 * log binds), so a contributor checks "the audited cleaner" as one hash, and the
 * published evaluation (docs/notes/data.md) names the same hash.
 */
import { createHash } from "node:crypto";
import * as addressGrammar from "../clean/address-grammar.js";
import { CLEANER_VERSION, type CleanerConfig } from "../clean/cleaner.js";
import * as dedupe from "../clean/dedupe.js";
import * as address from "../clean/detect-address.js";
import * as context from "../clean/detect-context.js";
import * as dates from "../clean/detect-dates.js";
import * as phones from "../clean/detect-phones.js";
import * as validated from "../clean/detect-validated.js";
import { lexicon } from "../clean/lexicon.js";
import * as nameRules from "../clean/name-rules.js";
import { nameScoreDigest } from "../clean/name-score.js";
import * as nameScoreFeatures from "../clean/name-score-features.js";
import * as risk from "../clean/risk.js";
import * as tokens from "../clean/tokens.js";
import * as validators from "../clean/validators.js";
import type { Sha256 } from "../../types.js";

export interface PipelineDescription {
  readonly kind: "cloister/data-pipeline/v1";
  readonly cleaner: string;
  readonly config: { readonly layers: readonly string[]; readonly riskThreshold: number; readonly nearDuplicateThreshold: number };
  /** SHA-256 of the canonical JSON of every rule module's exported patterns and lists. */
  readonly rules: Sha256;
  /** SHA-256 of the sorted word lists, with their sizes. */
  readonly lexicon: { readonly sha256: Sha256; readonly sizes: Readonly<Record<string, number>> };
  /** SHA-256 of the name-likeness scorer's weights (trained offline from the word lists). */
  readonly nameScorer: Sha256;
  /** SHA-256 of the ONNX token-classifier file, or null when none is configured. */
  readonly model: Sha256 | null;
}

const RULE_MODULES: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  addressGrammar, address, context, dates, phones, validated, nameRules, nameScoreFeatures, risk, tokens, validators, dedupe,
};

/** Canonical JSON: sorted keys; RegExp as {re, flags}; Set as a sorted array; functions left out. */
export function canonical(value: unknown): unknown {
  if (value instanceof RegExp) return { re: value.source, flags: value.flags };
  if (value instanceof Set) return [...value].map(String).sort();
  if (value instanceof Map) return canonical(Object.fromEntries(value));
  if (Array.isArray(value)) return value.map(canonical);
  if (ArrayBuffer.isView(value)) return Array.from(value as Uint8Array);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (typeof v !== "function") out[k] = canonical(v);
    }
    return out;
  }
  return value;
}

const sha = (s: string): Sha256 => createHash("sha256").update(s).digest("hex") as Sha256;

export function describePipeline(config: CleanerConfig, opts: { nearDuplicateThreshold: number; modelSha256: Sha256 | null }): PipelineDescription {
  const modules: Record<string, unknown> = {};
  for (const [name, mod] of Object.entries(RULE_MODULES)) modules[name] = canonical({ ...mod });
  const lex = lexicon();
  const lists = canonical({
    firstNames: lex.firstNames, lastNames: lex.lastNames, knownNames: lex.knownNames, knownFirstNames: lex.knownFirstNames,
    commonWords: lex.commonWords, englishWords: lex.englishWords, places: lex.places, streetSuffixes: lex.streetSuffixes,
  });
  return {
    kind: "cloister/data-pipeline/v1",
    cleaner: CLEANER_VERSION,
    config: { layers: [...config.layers], riskThreshold: config.riskThreshold, nearDuplicateThreshold: opts.nearDuplicateThreshold },
    rules: sha(JSON.stringify(modules)),
    lexicon: { sha256: sha(JSON.stringify(lists)), sizes: lex.sizes },
    nameScorer: nameScoreDigest() as Sha256,
    model: opts.modelSha256,
  };
}

/** The measurement: SHA-256 of the description's canonical JSON. */
export function pipelineMeasurement(d: PipelineDescription): Sha256 {
  return sha(JSON.stringify(canonical(d)));
}
