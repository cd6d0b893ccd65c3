// Summarise a .cpuprofile: self time by function and by file/package.
import { readFileSync } from "node:fs";
const p = JSON.parse(readFileSync(process.argv[2], "utf8"));
const top = Number(process.argv[3] ?? 40);
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas; let total = 0;
const counts = new Map();
for (let i = 0; i < p.samples.length; i++) { const id = p.samples[i]; const d = dt[i] ?? 0; counts.set(id, (counts.get(id) ?? 0) + d); total += d; }
const byFn = new Map(), byFile = new Map();
for (const [id, t] of counts) {
  const n = byId.get(id); const cf = n.callFrame;
  const file = cf.url.replace(/^file:\/\//, "").replace(/.*node_modules\//, "nm:").replace(/.*\/perf\//, "");
  const key = `${cf.functionName || "(anon)"} ${file}:${cf.lineNumber + 1}`;
  byFn.set(key, (byFn.get(key) ?? 0) + t);
  const fk = file.startsWith("nm:") ? file.split("/").slice(0, file.startsWith("nm:@") ? 2 : 1).join("/") : (file || cf.functionName);
  byFile.set(fk, (byFile.get(fk) ?? 0) + t);
}
const pr = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).forEach(([k, t]) => console.log(`${(t / 1000).toFixed(0).padStart(7)} ms ${(100 * t / total).toFixed(1).padStart(5)}%  ${k}`));
console.log(`total ${(total / 1000).toFixed(0)} ms`);
console.log("--- by file/package"); pr(byFile, 30);
console.log("--- by function"); pr(byFn, top);
