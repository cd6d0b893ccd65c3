/**
 * The cleaner: every layer runs over the original text, their spans are united, the
 * union is replaced by consistent placeholders and the result is scored for remaining
 * risk. `cloister data scrub`, the benchmark and the pipeline all call `clean` with the
 * same configuration, so what is measured is what runs in the enclave.
 */
import { detectAddresses } from "./detect-address.js";
import { detectContext } from "./detect-context.js";
import { detectDates } from "./detect-dates.js";
import { detectNames } from "./detect-names.js";
import { detectPhones } from "./detect-phones.js";
import { detectValidated } from "./detect-validated.js";
import { unite } from "./merge.js";
import { replaceSpans } from "./placeholders.js";
import { remainingRisk, type RiskReport } from "./risk.js";
import type { Detector, EntityType, Span } from "./types.js";

/** Bumped whenever a rule, list or threshold changes what the cleaner removes. */
export const CLEANER_VERSION = "cloister-cleaner/0.3.0";

export const LAYERS = {
  validators: detectValidated,
  phones: detectPhones,
  context: detectContext,
  names: detectNames,
  address: detectAddresses,
  dates: detectDates,
} as const satisfies Record<string, Detector>;
export type LayerName = keyof typeof LAYERS;

export interface CleanerConfig {
  readonly layers: readonly LayerName[];
  /** A record whose remaining-risk score is above this is rejected. */
  readonly riskThreshold: number;
  /** Extra detectors (the ONNX token classifier when one is configured). */
  readonly extra?: ReadonlyArray<{ readonly name: string; readonly detect: Detector }>;
}

export const DEFAULT_CLEANER_CONFIG: CleanerConfig = {
  layers: ["validators", "phones", "context", "names", "address", "dates"],
  riskThreshold: 0.5,
};

export interface OutputSpan {
  readonly start: number;
  readonly end: number;
  readonly type: EntityType;
}

export interface CleanResult {
  readonly text: string;
  /** United spans, in the original text's UTF-16 offsets. */
  readonly spans: readonly OutputSpan[];
  readonly risk: RiskReport;
  readonly rejected: boolean;
  readonly removed: Readonly<Partial<Record<EntityType, number>>>;
}

export function findSpans(text: string, config: CleanerConfig = DEFAULT_CLEANER_CONFIG): Span[] {
  const all: Span[] = [];
  for (const layer of config.layers) all.push(...LAYERS[layer](text));
  for (const e of config.extra ?? []) all.push(...e.detect(text));
  return unite(all.map(trim(text)));
}

export function clean(text: string, config: CleanerConfig = DEFAULT_CLEANER_CONFIG): CleanResult {
  const spans = findSpans(text, config);
  const cleaned = replaceSpans(text, spans);
  const risk = remainingRisk(cleaned);
  const removed: Partial<Record<EntityType, number>> = {};
  for (const s of spans) removed[s.type] = (removed[s.type] ?? 0) + 1;
  return {
    text: cleaned,
    spans: spans.map((s) => ({ start: s.start, end: s.end, type: s.type })),
    risk,
    rejected: risk.score > config.riskThreshold,
    removed,
  };
}

/** Spans never begin or end in whitespace or trailing punctuation. */
function trim(text: string): (s: Span) => Span {
  return (s) => {
    let { start, end } = s;
    while (start < end && /\s/.test(text.charAt(start))) start++;
    while (end > start && /[\s,;:]/.test(text.charAt(end - 1))) end--;
    return start === s.start && end === s.end ? s : { ...s, start, end };
  };
}
