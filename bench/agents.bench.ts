/**
 * Agents: what the sandbox and the egress proxy cost, as ratios to baselines measured in
 * this same run.
 *
 *   cold start   = a trivial agent in bubblewrap + cgroup + seccomp + bridge (runSandboxed),
 *                  and a whole run (runAgent: dir, proxy, sandbox, receipt), vs `node` spawned plainly
 *   runs/s       = whole runs, one at a time and two at a time (this machine has 2 cores)
 *   proxy        = one inference request through the egress proxy's Unix socket vs the
 *                  same handler served directly over loopback HTTP
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEgressProxy } from "../src/agents/egress/proxy.js";
import { runAgent } from "../src/agents/runner.js";
import { BRIDGE_SOURCE } from "../src/agents/sandbox/bridge-source.js";
import { detectSandbox } from "../src/agents/sandbox/detect.js";
import { runSandboxed } from "../src/agents/sandbox/run-sandboxed.js";
import { inlineBundle } from "../src/agents/test-fixtures.js";
import { createSigner } from "../src/seal/signing.js";
import { fmt, mean, percentile, timeIt } from "./stats.js";

const AGENT = `process.stdout.write("{}");`;

function delta(a: number, b: number): string {
  return `${a >= b ? "+" : "-"}${fmt(Math.abs(a - b))}`;
}

function plainNode(dir: string): Promise<void> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [join(dir, "agent.mjs")], { stdio: ["pipe", "pipe", "ignore"] });
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
  const dir = mkdtempSync(join(tmpdir(), "cloister-agents-bench-"));
  chmodSync(dir, 0o711);
  mkdirSync(join(dir, "bundle"));
  mkdirSync(join(dir, "runtime"));
  writeFileSync(join(dir, "bundle", "agent.mjs"), AGENT);
  writeFileSync(join(dir, "runtime", "bridge.mjs"), BRIDGE_SOURCE);
  chmodSync(join(dir, "bundle"), 0o755);
  chmodSync(join(dir, "runtime"), 0o755);
  const sock = join(dir, "egress.sock");
  const idle = createEgressProxy({ rules: [] });
  await idle.listen(sock);
  chmodSync(sock, 0o666);
  const limits = { memoryMb: 128, cpuSeconds: 5, wallSeconds: 20, outputBytes: 65536, pids: 16 };
  const sandboxed = () => runSandboxed({ bundleDir: join(dir, "bundle"), runtimeDir: join(dir, "runtime"), socketPath: sock, entry: "agent.mjs", input: Buffer.from("{}"), limits, env: {} });
  const { signed, hash } = inlineBundle(AGENT);
  const signer = createSigner("ed25519");
  const whole = () => runAgent({ signed, bundleSha256: hash, scannerReportSha256: null, input: Buffer.from("{}"), signer, attestation: { tee: "simulated", report_data_sha256: null } });

  await plainNode(join(dir, "bundle"));
  await sandboxed();
  const N = 12;
  const base = await timeIt(N, () => plainNode(join(dir, "bundle")));
  const sb = await timeIt(N, sandboxed);
  const full = await timeIt(N, whole);
  console.log(`cold start, plain node (baseline): p50 ${fmt(percentile(base, 50))}`);
  console.log(`cold start, sandboxed (bwrap+cgroup+seccomp+bridge): p50 ${fmt(percentile(sb, 50))}  = ${(percentile(sb, 50) / percentile(base, 50)).toFixed(2)}x plain (${delta(percentile(sb, 50), percentile(base, 50))}); goal <= 50 ms`);
  console.log(`whole run (dir, proxy, sandbox, receipt): p50 ${fmt(percentile(full, 50))}  = ${(percentile(full, 50) / percentile(base, 50)).toFixed(2)}x plain`);
  const seqStart = performance.now();
  for (let i = 0; i < N; i++) await whole();
  const seq = N / ((performance.now() - seqStart) / 1000);
  const parStart = performance.now();
  for (let i = 0; i < N / 2; i++) await Promise.all([whole(), whole()]);
  const par = N / ((performance.now() - parStart) / 1000);
  console.log(`runs/s: ${seq.toFixed(1)} one at a time, ${par.toFixed(1)} two at a time (plain node: ${(1000 / mean(base)).toFixed(1)}/s)`);

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
  await idle.close();
  await new Promise<void>((r) => direct.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
}
