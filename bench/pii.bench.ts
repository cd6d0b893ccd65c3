/**
 * `npm run bench -- pii`: the cleaner on Presidio's synthetic set (../shared/pii),
 * per entity type and overall, on the tuning split and the held-out split (every fifth
 * template), and its throughput in MB/s against a baseline (a regex pass over the same
 * text) measured in the same process.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { clean, findSpans } from "../src/data/clean/cleaner.js";
import { isHeldOut, PresidioRecord, scoreRecord, summarise, type Scores } from "../src/data/eval/score.js";
import { sharedPath } from "../src/util/shared.js";

const pct = (x: number): string => (Number.isFinite(x) ? (100 * x).toFixed(1).padStart(5) : "  n/a");

export async function run(): Promise<void> {
  const file = sharedPath("pii", "synth_dataset_v2.json");
  if (!file) {
    console.log("pii: skipped (../shared/pii/synth_dataset_v2.json missing)");
    return;
  }
  const records = z.array(PresidioRecord).parse(JSON.parse(readFileSync(file, "utf8")));
  const splits: Record<string, Scores> = { tune: new Map(), heldout: new Map(), all: new Map() };
  records.forEach((rec, i) => {
    const spans = findSpans(rec.full_text);
    scoreRecord(rec, spans, splits[isHeldOut(rec, i) ? "heldout" : "tune"]!);
    scoreRecord(rec, spans, splits["all"]!);
  });
  for (const [name, scores] of Object.entries(splits)) {
    const s = summarise(scores);
    console.log(`\n### ${name} (${name === "all" ? records.length : records.filter((r, i) => isHeldOut(r, i) === (name === "heldout")).length} records)`);
    console.log("presidio type        ours          mission  gold tokens  recall  typed");
    for (const r of s.rows) {
      console.log(`${r.type.padEnd(20)} ${r.mapped.padEnd(13)} ${r.mission ? "yes" : "no "}      ${String(r.gold).padStart(6)}     ${pct(r.recall)}  ${pct(r.typedRecall)}`);
    }
    console.log("our type        predicted tokens  precision");
    for (const p of s.precision) console.log(`${p.type.padEnd(15)} ${String(p.predicted).padStart(8)}          ${pct(p.precision)}`);
    console.log(`mission types: recall ${pct(s.mission.recall)}  precision ${pct(s.mission.precision)}`);
    console.log(`all removed types: recall ${pct(s.overall.recall)}  precision ${pct(s.overall.precision)}`);
  }
  // Throughput: the whole clean (detect, unite, replace, risk) over the set's text.
  const texts = records.map((r) => r.full_text);
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  const time = (f: (t: string) => unknown, rounds: number): number => {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < rounds; k++) for (const t of texts) f(t);
    return Number(process.hrtime.bigint() - t0) / 1e9 / rounds;
  };
  time(clean, 1);
  const secs = time(clean, 3);
  const base = time((t) => t.match(/\d+|\p{L}+/gu), 3);
  // On a shared machine the absolute figure moves with the load; the ratio does not.
  console.log(`\nthroughput: ${(bytes / secs / 1e6).toFixed(2)} MB/s over ${(bytes / 1e6).toFixed(2)} MB of text; baseline (one tokenising regex pass) ${(bytes / base / 1e6).toFixed(1)} MB/s; cleaner = ${(secs / base).toFixed(0)}x baseline time`);
}
