/**
 * Tune-split figures only (never the held-out split): PERSON recall and precision and the
 * mission aggregate on records whose template is not held out, for choosing thresholds.
 * `node --import tsx scripts/pii-tune.ts` (needs ../shared/pii/synth_dataset_v2.json).
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { findSpans } from "../src/data/clean/cleaner.js";
import { isHeldOut, PresidioRecord, scoreRecord, summarise, type Scores } from "../src/data/eval/score.js";
import { sharedPath } from "../src/util/shared.js";

const file = sharedPath("pii", "synth_dataset_v2.json");
if (!file) throw new Error("synth_dataset_v2.json missing");
const records = z.array(PresidioRecord).parse(JSON.parse(readFileSync(file, "utf8")));
const scores: Scores = new Map();
records.forEach((rec, i) => {
  if (!isHeldOut(rec, i)) scoreRecord(rec, findSpans(rec.full_text), scores);
});
const s = summarise(scores);
const person = s.rows.find((r) => r.type === "PERSON");
const pp = s.precision.find((p) => p.type === "PERSON");
const f = (x: number | undefined): string => (x === undefined ? "n/a" : (100 * x).toFixed(1));
console.log(`tune: PERSON recall ${f(person?.recall)} precision ${f(pp?.precision)} (${pp?.predicted} tokens); mission ${f(s.mission.recall)} / ${f(s.mission.precision)}`);
