/**
 * Token-level scoring (as presidio-research's evaluator does): every word token gets the
 * gold type of the gold span covering it and the predicted type of the predicted span
 * covering it. Recall of type T: T's gold tokens that were removed (by any type: the
 * promise is removal). Precision of type T: tokens we removed as T that lie in a gold
 * span of a removed type. "Typed" recall also requires our type to be T's mapped type.
 */
import { z } from "zod";
import { tokenize } from "../clean/tokens.js";
import { MISSION_TYPES, type EntityType } from "../clean/types.js";
import { PRESIDIO_TO_OURS } from "./presidio-map.js";

export const PresidioRecord = z.object({
  full_text: z.string(),
  spans: z.array(z.object({ entity_type: z.string(), start_position: z.number().int(), end_position: z.number().int() })),
  template_id: z.number().int().optional(),
});
export type PresidioRecord = z.infer<typeof PresidioRecord>;

export interface TypeScore {
  gold: number;
  found: number;
  typed: number;
  predicted: number;
  correct: number;
}

export type Scores = Map<string, TypeScore>;

function bump(m: Scores, k: string): TypeScore {
  let s = m.get(k);
  if (!s) m.set(k, (s = { gold: 0, found: 0, typed: 0, predicted: 0, correct: 0 }));
  return s;
}

export function scoreRecord(
  rec: PresidioRecord,
  predicted: ReadonlyArray<{ start: number; end: number; type: EntityType }>,
  into: Scores,
): void {
  for (const tok of tokenize(rec.full_text)) {
    const g = rec.spans.find((s) => s.start_position < tok.end && tok.start < s.end_position);
    const p = predicted.find((s) => s.start < tok.end && tok.start < s.end);
    const goldType = g ? PRESIDIO_TO_OURS[g.entity_type] : null;
    if (g) {
      const s = bump(into, g.entity_type);
      s.gold++;
      if (p) s.found++;
      if (p && goldType === p.type) s.typed++;
    }
    if (p) {
      const s = bump(into, `ours:${p.type}`);
      s.predicted++;
      if (goldType) s.correct++;
    }
  }
}

export interface Summary {
  readonly rows: ReadonlyArray<{ type: string; mapped: string; mission: boolean; gold: number; recall: number; typedRecall: number }>;
  readonly precision: ReadonlyArray<{ type: string; predicted: number; precision: number }>;
  readonly mission: { recall: number; precision: number };
  readonly overall: { recall: number; precision: number };
}

const MISSION = new Set<string>(MISSION_TYPES);

export function summarise(s: Scores): Summary {
  const rows = [];
  let mg = 0, mf = 0, og = 0, of = 0;
  for (const [type, mapped] of Object.entries(PRESIDIO_TO_OURS)) {
    if (mapped === null) continue;
    const v = s.get(type);
    if (!v) continue;
    const mission = MISSION.has(mapped);
    rows.push({ type, mapped, mission, gold: v.gold, recall: v.found / v.gold, typedRecall: v.typed / v.gold });
    og += v.gold; of += v.found;
    if (mission) { mg += v.gold; mf += v.found; }
  }
  const precision = [];
  let mp = 0, mc = 0, op = 0, oc = 0;
  for (const [k, v] of s) {
    if (!k.startsWith("ours:")) continue;
    const type = k.slice(5);
    precision.push({ type, predicted: v.predicted, precision: v.correct / v.predicted });
    op += v.predicted; oc += v.correct;
    if (MISSION.has(type)) { mp += v.predicted; mc += v.correct; }
  }
  return {
    rows,
    precision,
    mission: { recall: mf / mg, precision: mc / mp },
    overall: { recall: of / og, precision: oc / op },
  };
}

/** The held-out split: every fifth template (by id), so held-out sentences are unseen shapes. */
export function isHeldOut(rec: PresidioRecord, index: number): boolean {
  return (rec.template_id ?? index) % 5 === 0;
}
