/** The processes of the gateway benches: the canned upstream fixture and `cloister up --upstream` (built dist). */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");

export interface Proc {
  readonly url: string;
  readonly child: ChildProcess;
}

/** Spawns a process and resolves with the URL its stdout announces. */
function spawnAnnouncing(args: string[], env: NodeJS.ProcessEnv, match: (out: string) => string | null): Promise<Proc> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"], env });
  return new Promise<Proc>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const url = match(out);
      if (url) resolve({ url, child });
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited ${code}`)));
  });
}

export function startUpstream(): Promise<Proc> {
  return spawnAnnouncing(["--import", "tsx", join(root, "test", "fixtures", "upstream-server.ts"), "--port", "0"], { ...process.env, CLOISTER_THREADS: "1" }, (out) => {
    const m = /\{"port":(\d+)\}/.exec(out);
    return m ? `http://127.0.0.1:${m[1]}` : null;
  });
}

/** The gateway from a built checkout (default: this one), optionally under `node --cpu-prof`. */
export function startGateway(upstream: string, checkout = root, prof?: string): Promise<Proc> {
  const dataDir = mkdtempSync(join(tmpdir(), "cloister-bench-"));
  return spawnAnnouncing(
    // BENCH_GATEWAY_NODE_ARGS: node/V8 flags NODE_OPTIONS does not take (e.g. --single-threaded-gc).
    [...(process.env["BENCH_GATEWAY_NODE_ARGS"]?.split(" ").filter(Boolean) ?? []), ...(prof ? ["--cpu-prof", "--cpu-prof-dir", prof] : []), join(checkout, "bin", "cloister.js"), "up", "--upstream", upstream, "--no-auth", "--tee", "simulated", "--port", "0", "--data-dir", dataDir, "--log-level", "warn", "--max-concurrent", "256"],
    // BENCH_GATEWAY_NODE_OPTIONS: node flags for the gateway only (e.g. --heap-prof).
    process.env["BENCH_GATEWAY_NODE_OPTIONS"] ? { ...process.env, NODE_OPTIONS: process.env["BENCH_GATEWAY_NODE_OPTIONS"] } : process.env,
    (out) => /at (http:\/\/[^ ]+)\/v1/.exec(out)?.[1] ?? null,
  );
}

/** The bare node:http proxy (./bare-proxy.ts): the floor any Node gateway starts from. */
export function startBareProxy(upstream: string): Promise<Proc> {
  return spawnAnnouncing(["--import", "tsx", join(root, "bench", "bare-proxy.ts"), upstream], process.env, (out) => /at (http:\/\/[^ ]+)\/v1/.exec(out)?.[1] ?? null);
}

/** The same floor on the gateway's stack (./hono-proxy.ts): hono, node-server and the gateway's upstream client, no features. */
export function startHonoProxy(upstream: string): Promise<Proc> {
  return spawnAnnouncing(["--import", "tsx", join(root, "bench", "hono-proxy.ts"), upstream], process.env, (out) => /at (http:\/\/[^ ]+)\/v1/.exec(out)?.[1] ?? null);
}

/** SIGTERM to each, resolved once all have exited. */
export async function stopAll(procs: readonly Proc[]): Promise<void> {
  const exited = (p: Proc): Promise<void> => new Promise((r) => (p.child.exitCode !== null ? r() : p.child.once("exit", () => r())));
  for (const p of procs) p.child.kill("SIGTERM");
  await Promise.all(procs.map(exited));
}
