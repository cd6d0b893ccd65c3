/**
 * Agents: what the sandbox and the egress proxy cost, as ratios to baselines measured in
 * this same run.
 *
 *   cold start   = a whole run of a trivial agent (runAgent: fresh sandbox, proxy, receipt) as a
 *                  user sees it on a node whose pool holds a pre-started sandbox (the node's
 *                  default; each sandbox still serves one run), and with the sandbox started on
 *                  demand; vs a bare `node -e 0` spawn and `node agent.mjs`, measured alongside
 *   runs/s       = whole runs back to back, one and two at a time (this machine has 2 cores)
 *   proxy        = one inference request through the egress proxy's Unix socket vs the
 *                  same handler served directly over loopback HTTP
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingMessage } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createEgressProxy } from "../src/agents/egress/proxy.js";
import { runAgent } from "../src/agents/runner.js";
import { detectSandbox } from "../src/agents/sandbox/detect.js";
import { launchSandbox } from "../src/agents/sandbox/launch.js";
import { SandboxPool } from "../src/agents/sandbox/warm-pool.js";
import { inlineBundle } from "../src/agents/test-fixtures.js";
import { createSigner } from "../src/seal/signing.js";
import { fmt, mean, percentile, timeIt } from "./stats.js";

const AGENT = `process.stdout.write("{}");`;

function delta(a: number, b: number): string {
  return `${a >= b ? "+" : "-"}${fmt(Math.abs(a - b))}`;
}

function plainNode(args: string[]): Promise<void> {
  return new Promise((resolve) => {
    // A clean environment, as the sandbox has (an inherited NODE_OPTIONS, e.g. a loader, would inflate the baseline).
    const c = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "ignore"], env: { PATH: "/usr/bin:/bin" } });
    c.stdin.end("{}");
    c.stdout.resume();
    c.on("close", () => resolve());
  });
}

function post(opts: { socketPath: string } | { port: number }, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const r = request({ ...opts, ...("port" in opts ? { host: "127.0.0.1" } : {}), method: "POST", path: "/v1/chat/completions", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, agent: false }, (res: IncomingMessage) => {
      res.resume();
      res.on("end", () => resolve());
    });
    r.on("error", reject);
    r.end(body);
  });
}

export async function run(): Promise<void> {
  const support = detectSandbox();
  if (!support.available) {
    console.log(`agents bench skipped: ${support.reason}`);
    return;
  }
  const load = (): string => loadavg().map((l) => l.toFixed(2)).join(" ");
  console.log(`load average at start: ${load()} (this machine is shared: absolute times move with it, ratios less)`);
  const dir = mkdtempSync(join(tmpdir(), "cloister-agents-bench-"));
  chmodSync(dir, 0o711);
  mkdirSync(join(dir, "bundle"));
  writeFileSync(join(dir, "bundle", "agent.mjs"), AGENT);
  const bare = ["-e", "0"];
  const file = [join(dir, "bundle", "agent.mjs")];
  const limits = { memoryMb: 256, cpuSeconds: 10, pids: 32 };
  const onDemandSandbox = async (): Promise<void> => {
    const s = launchSandbox({ limits });
    const idle = createEgressProxy({ rules: [] });
    await idle.listen(s.socketPath);
    await s.run({ entry: "agent.mjs", code: AGENT, env: {}, input: Buffer.from("{}"), wallSeconds: 20, outputBytes: 65536 });
    await idle.close();
    s.discard();
  };
  const { signed, hash } = inlineBundle(AGENT);
  const signer = createSigner("ed25519");
  const pool = new SandboxPool({ size: 2 });
  const whole = (withPool: boolean) => () => runAgent({ signed, bundleSha256: hash, scannerReportSha256: null, input: Buffer.from("{}"), signer, attestation: { tee: "simulated", e2ePublicKey: new Uint8Array(32) }, ...(withPool ? { pool } : {}) });
  const settle = async (): Promise<void> => {
    await pool.warm(signed.bundle.manifest.limits);
    await new Promise((r) => setTimeout(r, 20));
  };

  await plainNode(file);
  await onDemandSandbox();
  await settle();
  await whole(true)();
  const N = 12;
  const base = await timeIt(N, () => plainNode(bare));
  const baseFile = await timeIt(N, () => plainNode(file));
  const sb = await timeIt(N, onDemandSandbox);
  const cold = await timeIt(N, whole(false));
  const warm: number[] = [];
  const inside: number[] = [];
  for (let i = 0; i < N; i++) {
    await settle();
    const t0 = performance.now();
    const r = await whole(true)();
    warm.push(performance.now() - t0);
    inside.push(r.process.durationMs);
  }
  const b = percentile(base, 50);
  const line = (what: string, xs: number[]): string => `${what}: p50 ${fmt(percentile(xs, 50))}  = ${(percentile(xs, 50) / b).toFixed(2)}x bare node (${delta(percentile(xs, 50), b)})`;
  console.log(`bare \`node -e 0\` spawn (baseline): p50 ${fmt(b)}; \`node agent.mjs\` p50 ${fmt(percentile(baseFile, 50))}`);
  console.log(`${line("cold start of a run, pre-started sandbox (whole run: fresh sandbox from the pool, proxy, receipt)", warm)}; goal <= 50 ms: ${percentile(warm, 50) <= 50 ? "met" : "NOT met"} (agent process alone p50 ${fmt(percentile(inside, 50))})`);
  console.log(line("cold start of a run, sandbox started on demand (whole run)", cold));
  console.log(line("sandbox started on demand, agent only (bwrap+cgroup+seccomp+bridge+zygote)", sb));
  const seqStart = performance.now();
  for (let i = 0; i < N; i++) await whole(true)();
  const seq = N / ((performance.now() - seqStart) / 1000);
  const parStart = performance.now();
  for (let i = 0; i < N / 2; i++) await Promise.all([whole(true)(), whole(true)()]);
  const par = N / ((performance.now() - parStart) / 1000);
  console.log(`runs/s back to back (pool of 2): ${seq.toFixed(1)} one at a time, ${par.toFixed(1)} two at a time (bare node spawns: ${(1000 / mean(base)).toFixed(1)}/s)`);
  pool.close();
  console.log(`load average at the end: ${load()}`);

  // Proxy overhead per inference request: same handler, through the proxy vs direct.
  const answer = JSON.stringify({ id: "x", choices: [{ message: { content: "ok" } }] });
  const proxy = createEgressProxy({ rules: [], inference: { fetch: async () => new Response(answer, { headers: { "content-type": "application/json" } }), baseUrl: "http://node.internal", authorization: "Bearer k", models: ["m"] } });
  const psock = join(dir, "p.sock");
  await proxy.listen(psock);
  const direct = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(answer));
  });
  await new Promise<void>((r) => direct.listen(0, "127.0.0.1", r));
  const port = (direct.address() as { port: number }).port;
  const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] });
  const M = 300;
  await timeIt(30, () => post({ port }, body));
  await timeIt(30, () => post({ socketPath: psock }, body));
  const d = await timeIt(M, () => post({ port }, body));
  const p = await timeIt(M, () => post({ socketPath: psock }, body));
  console.log(`inference request, direct loopback HTTP (baseline): p50 ${fmt(percentile(d, 50))}`);
  console.log(`inference request through the egress proxy: p50 ${fmt(percentile(p, 50))}  = ${(percentile(p, 50) / percentile(d, 50)).toFixed(2)}x direct (${delta(percentile(p, 50), percentile(d, 50))} per request)`);
  await proxy.close();
  await new Promise<void>((r) => direct.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
}
