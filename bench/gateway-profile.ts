/**
 * A small driver for profiling the gateway (not a *.bench.ts: `npm run bench` skips it):
 *
 *   node --import tsx bench/gateway-profile.ts [--prof DIR] [--requests N] [--stream]
 *
 * (--checkout DIR: the gateway built in another checkout, for before/after) starts the canned upstream fixture and `bin/cloister.js up --upstream` (the built dist,
 * its own process, as in production; with --prof under `node --cpu-prof`), sends N
 * sequential completions, and prints the gateway's CPU per completion split by thread
 * (from /proc/PID/task: the event loop vs the signing worker and libuv's pool), which
 * needs no profiler and so is not inflated by one. Read a profile with
 * `node scripts/cpuprofile-summary.mjs FILE`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { createClient } from "./http-load.js";
import { percentile } from "./stats.js";
import { startGateway, startUpstream, stopAll } from "./gateway-procs.js";

const { values } = parseArgs({ options: { prof: { type: "string" }, requests: { type: "string", default: "2000" }, checkout: { type: "string" }, stream: { type: "boolean", default: false } } });

/** CPU seconds per thread of a process, by thread name (Linux /proc). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const key = tid === String(pid) ? "event loop" : name;
      out.set(key, (out.get(key) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // the thread ended between readdir and read
    }
  }
  return out;
}

const up = await startUpstream();
const gw = await startGateway(up.url, values.checkout, values.prof);
const client = createClient(4);
const n = Number(values.requests);
const payload = JSON.stringify({ model: "canned", messages: [{ role: "user", content: "Tell me a story." }], stream: values.stream });
try {
  const url = `${gw.url}/v1/chat/completions`;
  for (let i = 0; i < 300; i++) await client.post(url, payload);
  const pid = gw.child.pid ?? 0;
  const c0 = threadCpu(pid);
  const t0 = performance.now();
  let errors = 0;
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await client.post(url, payload);
    lat.push(r.totalMs);
    if (!r.ok) errors++;
  }
  const wall = (performance.now() - t0) / n;
  const c1 = threadCpu(pid);
  let total = 0;
  const rows: string[] = [];
  for (const [k, v] of c1) {
    const d = v - (c0.get(k) ?? 0);
    total += d;
    if (d > 0) rows.push(`  ${k.padEnd(16)} ${((d / n) * 1e6).toFixed(0).padStart(6)} µs`);
  }
  console.log(`${n} ${values.stream ? "streamed" : "non-streamed"} completions, one at a time: ${(wall * 1000).toFixed(0)} µs wall each (p50 ${(percentile(lat, 50) * 1000).toFixed(0)} µs), errors ${errors}, load avg ${loadavg()[0]?.toFixed(1)}`);
  console.log(`gateway CPU per completion: ${((total / n) * 1e6).toFixed(0)} µs, by thread:`);
  console.log(rows.join("\n"));
} finally {
  client.close();
  await stopAll([gw, up]);
}
