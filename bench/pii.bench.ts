/**
 * `npm run bench -- pii`: the cleaner on Presidio's synthetic set (../shared/pii),
 * per entity type and overall, on the tuning split and the held-out split (every fifth
 * template), and its throughput in MB/s against a baseline (a regex pass over the same
 * text) measured in the same process.
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { z } from "zod";
import { clean, findSpans } from "../src/data/clean/cleaner.js";
import { forgetRecentWords } from "../src/data/clean/name-tokens.js";
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
  // Wall time and this process's CPU time: on a shared machine the wall figure moves
  // with the load (other processes take the cores); the CPU figure is what the cleaner
  // costs one core, and the ratio to the baseline moves least.
  // Every pass starts with the names layer's recent-word map empty: the set is 1500 texts
  // passed over again and again, and a map still holding the last pass's words would make
  // the figure one a stream of new records never gets (it saved ~12%). Within a pass the
  // map fills as it would on any stream. (The phone-pattern cache is kept: it holds the
  // library's fixed patterns, not words of the records.)
  const time = (f: (t: string) => unknown, rounds: number): { wall: number; cpu: number } => {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    for (let k = 0; k < rounds; k++) {
      forgetRecentWords();
      for (const t of texts) f(t);
    }
    const c = process.cpuUsage(c0);
    return { wall: Number(process.hrtime.bigint() - t0) / 1e9 / rounds, cpu: (c.user + c.system) / 1e6 / rounds };
  };
  time(clean, 3);
  const secs = time(clean, 5);
  const base = time((t) => t.match(/\d+|\p{L}+/gu), 5);
  const mbs = (s: number): string => (bytes / s / 1e6).toFixed(2);
  console.log(`\nthroughput: ${mbs(secs.wall)} MB/s wall, ${mbs(secs.cpu)} MB/s per core of CPU time, over ${(bytes / 1e6).toFixed(2)} MB of text (load average ${loadavg()[0]?.toFixed(1)}); baseline (one tokenising regex pass) ${mbs(base.wall)} MB/s; cleaner = ${(secs.wall / base.wall).toFixed(0)}x baseline time`);
  console.log("(each timed pass starts with the recent-word cache emptied, so no pass gains from the words of the pass before)");
}
