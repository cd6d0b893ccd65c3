/**
 * Starts one sandbox and hands it exactly one run. `launchSandbox` lays out the run's
 * directory (an empty read-only bundle directory, the bridge and zygote, a directory for
 * the egress socket), creates the cgroup, and starts bubblewrap — joined to the cgroup and
 * under RLIMIT_CPU by its launcher shell before it execs, so there is no escape window —
 * with the zygote waiting. `run()` then writes the agent in, hands over its environment
 * and stdin, and collects stdout up to the output cap (killed past it) under the wall-time
 * limit. Starting and running are split so a pool (warm-pool.ts) can start ahead of
 * demand; a sandbox is never reused: after its one run, process, cgroup and directory go.
 *
 * Without a sandbox, and only when the caller explicitly asks for the development mode,
 * the same zygote runs as a plain child process, announced loudly.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { AgentError, AgentCode } from "../errors.js";
import { bwrapArgs, SANDBOX_SOCKET, SOCKET_NAME } from "./bwrap-args.js";
import { BRIDGE_SOURCE } from "./bridge-source.js";
import { createRunCgroup, type RunCgroup } from "./cgroup.js";
import { detectSandbox, type SandboxSupport } from "./detect.js";
import { seccompProgram } from "./seccomp.js";
import { ZYGOTE_SOURCE } from "./zygote-source.js";

export interface ProcessLimits {
  readonly memoryMb: number;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly outputBytes: number;
  readonly pids: number;
}

export type RunOutcome = "ok" | "exit_nonzero" | "wall_time_exceeded" | "cpu_time_exceeded" | "memory_exceeded" | "output_too_large" | "killed";

export interface ProcessResult {
  readonly outcome: RunOutcome;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: Buffer;
  /** At most 64 KiB; leaves the enclave only through the observability filter. */
  readonly stderr: Buffer;
  /** From the hand-over to the end of the process. */
  readonly durationMs: number;
  /** From the launch to the hand-over (near zero for a cold start, the pool's lead for a warm one). */
  readonly waitedMs: number;
  readonly sandboxed: boolean;
  readonly seccomp: boolean;
  readonly memoryPeakBytes: number | null;
}

export interface LaunchPlan {
  /** What the sandbox is started for; wall time and output cap apply at run(). */
  readonly limits: Pick<ProcessLimits, "memoryMb" | "cpuSeconds" | "pids">;
  readonly workDir?: string;
  /** Development only: run without a sandbox when none is available (never for untrusted code). */
  readonly allowUnsandboxed?: boolean;
  readonly onWarning?: (message: string) => void;
  /** What detectSandbox() found; tests pass another answer to check the refusal path. */
  readonly support?: SandboxSupport;
}

export interface RunHandOver {
  readonly entry: string;
  readonly code: string | Uint8Array;
  readonly env: Readonly<Record<string, string>>;
  readonly input: Uint8Array;
  readonly wallSeconds: number;
  readonly outputBytes: number;
}

export interface Launched {
  /** Host path the egress proxy must listen on before run() (the sandbox connects lazily). */
  readonly socketPath: string;
  readonly sandboxed: boolean;
  readonly seccomp: boolean;
  /** Resolves true once the zygote waits for its run, false if it died first. */
  readonly ready: Promise<boolean>;
  /** Resolves when the process has ended. */
  readonly exited: Promise<void>;
  /** True while the process has not ended (a pool drops slots that died). */
  alive(): boolean;
  run(h: RunHandOver): Promise<ProcessResult>;
  /** Kills the process if it still runs, removes its cgroup and directory (after a run, or unused). */
  discard(): void;
}

const STDERR_CAP = 64 * 1024;
export const UNSANDBOXED_WARNING = "WARNING: running the agent WITHOUT a sandbox (development mode): it can read this machine's files, reach its network and see nothing of the egress firewall's enforcement. Never do this with code you do not trust.";
// The launcher joins the cgroup(s), caps CPU seconds, then execs (same pid) into bwrap.
const LAUNCHER = 'cpu="$1"; shift; while [ "$1" != "--" ]; do echo $$ > "$1" || exit 111; shift; done; shift; ulimit -S -t "$cpu" && ulimit -H -t $((cpu + 1)) || exit 112; exec "$@"';

function layout(workDir: string): { dir: string; bundleDir: string; runtimeDir: string; socketDir: string } {
  const dir = mkdtempSync(join(workDir, "cloister-run-"));
  const bundleDir = join(dir, "bundle");
  const runtimeDir = join(dir, "runtime");
  const socketDir = join(dir, "sock");
  for (const d of [bundleDir, runtimeDir, socketDir]) mkdirSync(d);
  writeFileSync(join(runtimeDir, "bridge.mjs"), BRIDGE_SOURCE, { mode: 0o444 });
  writeFileSync(join(runtimeDir, "zygote.mjs"), ZYGOTE_SOURCE, { mode: 0o444 });
  // The sandbox runs as uid 65534 on the host side too: it may traverse and read, never write.
  chmodSync(dir, 0o711);
  for (const d of [bundleDir, runtimeDir, socketDir]) chmodSync(d, 0o755);
  return { dir, bundleDir, runtimeDir, socketDir };
}

export function launchSandbox(p: LaunchPlan): Launched {
  const support = p.support ?? detectSandbox();
  if (!support.available && !p.allowUnsandboxed) {
    throw new AgentError(AgentCode.SANDBOX_UNAVAILABLE, `refusing to run an untrusted agent: ${support.reason ?? "no sandbox"} (a development flag, --unsandboxed, runs it anyway)`);
  }
  const sandboxed = support.available;
  const launchedAt = performance.now();
  const { dir, bundleDir, runtimeDir, socketDir } = layout(p.workDir ?? tmpdir());
  const socketPath = join(socketDir, SOCKET_NAME);
  let cg: RunCgroup | null = null;
  let child: ChildProcess;
  const seccomp = sandboxed ? seccompProgram() : null;
  try {
    if (sandboxed) {
      cg = createRunCgroup(`run-${randomBytes(8).toString("hex")}`, { memoryBytes: p.limits.memoryMb * 1024 * 1024, pids: p.limits.pids, cpus: 1 }, support.cgroup ?? "v1");
      const inner = bwrapArgs({
        bundleDir,
        runtimeDir,
        socketDir,
        nodeBinary: process.execPath,
        tmpBytes: Math.max(1, Math.floor(p.limits.memoryMb / 4)) * 1024 * 1024,
        heapMb: Math.max(16, Math.floor(p.limits.memoryMb * 0.75)),
        seccompFd: seccomp ? 4 : null,
        env: { CLOISTER_EGRESS_SOCKET: SANDBOX_SOCKET, HOME: "/tmp", PATH: "/usr/bin:/bin", TMPDIR: "/tmp" },
      });
      const drop = support.dropHostUid ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs"] : [];
      child = spawn("/bin/sh", ["-c", LAUNCHER, "cloister-launch", String(p.limits.cpuSeconds), ...cg.procsFiles, "--", ...drop, support.bwrap ?? "bwrap", ...inner], {
        stdio: seccomp ? ["pipe", "pipe", "pipe", "pipe", "pipe"] : ["pipe", "pipe", "pipe", "pipe"],
        env: {},
        cwd: "/",
      });
    } else {
      p.onWarning?.(UNSANDBOXED_WARNING);
      child = spawn(process.execPath, ["--no-warnings", "--import", `file://${runtimeDir}/bridge.mjs`, join(runtimeDir, "zygote.mjs"), bundleDir], {
        stdio: ["pipe", "pipe", "pipe", "pipe"],
        env: { CLOISTER_EGRESS_SOCKET: socketPath, PATH: "/usr/bin:/bin" },
        cwd: runtimeDir,
      });
    }
  } catch (e) {
    cg?.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  if (seccomp) {
    const fd4 = child.stdio[4] as Writable | null;
    fd4?.on("error", () => {});
    fd4?.end(seccomp);
  }
  const ctl = child.stdio[3] as (Readable & Writable) | null;
  for (const s of [child.stdin, child.stdout, child.stderr, ctl]) s?.on("error", () => {});

  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outLen = 0;
  let errLen = 0;
  let outputCap = Infinity;
  let outcome: RunOutcome | null = null;
  let ended = false;
  const kill = (why: RunOutcome): void => {
    outcome ??= why;
    child.kill("SIGKILL");
  };
  child.stdout?.on("data", (d: Buffer) => {
    outLen += d.length;
    if (outLen > outputCap) return kill("output_too_large");
    out.push(d);
  });
  child.stderr?.on("data", (d: Buffer) => {
    if (errLen < STDERR_CAP) err.push(d.subarray(0, STDERR_CAP - errLen));
    errLen += d.length;
  });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (c, s) => ((ended = true), resolve({ code: c, signal: s })));
    child.on("error", () => ((ended = true), resolve({ code: null, signal: null })));
  });
  const ready = new Promise<boolean>((resolve) => {
    ctl?.once("data", () => resolve(true));
    void closed.then(() => resolve(false));
  });
  let used = false;
  let cgGone = false;
  const removeCgroup = (): void => {
    if (cgGone) return;
    cgGone = true;
    cg?.destroy();
  };

  return {
    socketPath,
    sandboxed,
    seccomp: seccomp !== null,
    ready,
    exited: closed.then(() => undefined),
    alive: () => !ended,
    async run(h) {
      if (used) throw new AgentError(AgentCode.RUN_FAILED, "a sandbox serves one run");
      used = true;
      writeFileSync(join(bundleDir, h.entry), h.code, { mode: 0o444 });
      outputCap = h.outputBytes;
      const handedAt = performance.now();
      const timer = setTimeout(() => kill("wall_time_exceeded"), h.wallSeconds * 1000);
      ctl?.end(`${JSON.stringify({ entry: h.entry, env: h.env })}\n`);
      child.stdin?.end(Buffer.from(h.input));
      const { code, signal } = await closed;
      clearTimeout(timer);
      const memoryExceeded = cg?.memoryExceeded() ?? false;
      const memoryPeakBytes = cg?.peakBytes() ?? null;
      removeCgroup();
      const stderr = Buffer.concat(err);
      if (outcome === null) {
        if (memoryExceeded || /heap out of memory|Allocation failed/.test(stderr.toString("latin1"))) outcome = "memory_exceeded";
        else if (signal === "SIGXCPU" || code === 128 + 24) outcome = "cpu_time_exceeded";
        else if (code === 0) outcome = "ok";
        else if (signal !== null) outcome = "killed";
        else outcome = "exit_nonzero";
      }
      return { outcome, exitCode: code, signal, stdout: Buffer.concat(out), stderr, durationMs: performance.now() - handedAt, waitedMs: handedAt - launchedAt, sandboxed, seccomp: seccomp !== null, memoryPeakBytes };
    },
    discard() {
      used = true;
      if (!ended) child.kill("SIGKILL");
      removeCgroup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
