/**
 * Remaining risk of a cleaned record: what is left after the spans were removed that
 * still looks identifying. Each signal adds to a score in [0, 1]; a record above the
 * threshold is rejected (never passed through). The signals are deliberately blunt:
 * they fire on what the detectors declined (long digit runs, @-strings, capitalised
 * word pairs next to name cues), so a detector's miss is caught here instead of leaking.
 */
import { digitCount } from "./tokens.js";

export const SIGNALS: ReadonlyArray<{ name: string; re: RegExp; weight: number }> = [
  // Seven or more digits in one run (with separators) survived: an unrecognised number.
  { name: "long_number", re: /(?<![\w[])\d(?:[ .-]?\d){6,}(?![\w\]])/g, weight: 0.5 },
  { name: "at_sign", re: /\S@\S/g, weight: 0.6 },
  { name: "id_cue", re: /\b(?:ssn|social security|passport|licen[cs]e|mrn|medical record|account|routing|iban|dob|date of birth)\b[^.\n[]{0,20}\d/gi, weight: 0.6 },
  { name: "name_cue", re: /\b(?:my name is|i am|i'm|called|signed|regards|sincerely|dear)\s+\p{Lu}\p{Ll}+/gu, weight: 0.4 },
  { name: "street_number", re: /\b\d{1,5}\s+\p{Lu}\p{Ll}+\s+(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd)\b/giu, weight: 0.6 },
];

export interface RiskReport {
  readonly score: number;
  readonly signals: readonly string[];
}

/** What each signal needs at least (exact gates: a text without it cannot match). */
const NEEDS: Readonly<Record<string, (t: string, digits: number) => boolean>> = {
  long_number: (_, d) => d >= 7,
  at_sign: (t) => t.includes("@"),
  id_cue: (_, d) => d >= 1,
  street_number: (_, d) => d >= 1,
  // Case-sensitive: one of its cue words as written.
  name_cue: (t) => ["my name is", "i am", "i'm", "called", "signed", "regards", "sincerely", "dear"].some((w) => t.includes(w)),
};

export function remainingRisk(cleaned: string): RiskReport {
  let score = 0;
  const signals: string[] = [];
  const digits = digitCount(cleaned);
  for (const s of SIGNALS) {
    const need = NEEDS[s.name];
    if (need && !need(cleaned, digits)) continue;
    const hits = cleaned.match(s.re)?.length ?? 0;
    if (hits > 0) {
      signals.push(s.name);
      score = 1 - (1 - score) * Math.pow(1 - s.weight, hits);
    }
  }
  return { score: Math.round(score * 1000) / 1000, signals };
}

export const RISK_SIGNAL_NAMES = SIGNALS.map((s) => s.name);
