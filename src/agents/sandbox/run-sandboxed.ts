/**
 * Runs one agent process: in bubblewrap inside a fresh cgroup when the sandbox is
 * available, or — only when the caller explicitly asks for the development mode — as a
 * plain child process, announced loudly. Stdin gets the input; stdout is collected up
 * to the output cap (the process is killed past it); the wall-time limit kills the whole
 * sandbox (pid namespace and cgroup), CPU time is RLIMIT_CPU (`ulimit -t`).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { AgentError, AgentCode } from "../errors.js";
import { bwrapArgs, SANDBOX_SOCKET } from "./bwrap-args.js";
import { createRunCgroup, type RunCgroup } from "./cgroup.js";
import { detectSandbox, type SandboxSupport } from "./detect.js";
import { seccompProgram } from "./seccomp.js";

export interface ProcessLimits {
  readonly memoryMb: number;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly outputBytes: number;
  readonly pids: number;
}

export interface SandboxedRun {
  readonly bundleDir: string;
  readonly runtimeDir: string;
  readonly socketPath: string;
  readonly entry: string;
  readonly input: Uint8Array;
  readonly limits: ProcessLimits;
  readonly env: Readonly<Record<string, string>>;
  /** Development only: run without a sandbox when none is available (never for untrusted code). */
  readonly allowUnsandboxed?: boolean;
  readonly onWarning?: (message: string) => void;
  /** What detectSandbox() found; tests pass another answer to check the refusal path. */
  readonly support?: SandboxSupport;
}

export type RunOutcome = "ok" | "exit_nonzero" | "wall_time_exceeded" | "cpu_time_exceeded" | "memory_exceeded" | "output_too_large" | "killed";

export interface ProcessResult {
  readonly outcome: RunOutcome;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: Buffer;
  /** At most 64 KiB; leaves the enclave only through the observability filter. */
  readonly stderr: Buffer;
  readonly durationMs: number;
  readonly sandboxed: boolean;
  readonly seccomp: boolean;
  readonly memoryPeakBytes: number | null;
}

const STDERR_CAP = 64 * 1024;
export const UNSANDBOXED_WARNING = "WARNING: running the agent WITHOUT a sandbox (development mode): it can read this machine's files, reach its network and see nothing of the egress firewall's enforcement. Never do this with code you do not trust.";

export async function runSandboxed(r: SandboxedRun): Promise<ProcessResult> {
  const support = r.support ?? detectSandbox();
  if (!support.available && !r.allowUnsandboxed) {
    throw new AgentError(AgentCode.SANDBOX_UNAVAILABLE, `refusing to run an untrusted agent: ${support.reason ?? "no sandbox"} (a development flag, --unsandboxed, runs it anyway)`);
  }
  const sandboxed = support.available;
  const started = performance.now();
  let cg: RunCgroup | null = null;
  let command: string;
  let args: string[];
  const seccomp = sandboxed ? seccompProgram() : null;
  const stdio: ("pipe" | "ignore")[] = ["pipe", "pipe", "pipe"];
  if (sandboxed) {
    cg = createRunCgroup(`run-${randomBytes(8).toString("hex")}`, { memoryBytes: r.limits.memoryMb * 1024 * 1024, pids: r.limits.pids, cpus: 1 }, support.cgroup ?? "v1");
    if (seccomp) stdio.push("pipe");
    const inner = bwrapArgs({
      bundleDir: r.bundleDir,
      runtimeDir: r.runtimeDir,
      socketPath: r.socketPath,
      nodeBinary: process.execPath,
      entry: r.entry,
      tmpBytes: Math.max(1, Math.floor(r.limits.memoryMb / 4)) * 1024 * 1024,
      heapMb: Math.max(16, Math.floor(r.limits.memoryMb * 0.75)),
      seccompFd: seccomp ? 3 : null,
      env: { ...r.env, CLOISTER_EGRESS_SOCKET: SANDBOX_SOCKET, HOME: "/tmp", PATH: "/usr/bin:/bin", TMPDIR: "/tmp" },
    });
    const drop = support.dropHostUid ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs"] : [];
    // The launcher joins the cgroup(s), caps CPU seconds, then execs (same pid) into bwrap.
    const script = 'cpu="$1"; shift; while [ "$1" != "--" ]; do echo $$ > "$1" || exit 111; shift; done; shift; ulimit -S -t "$cpu" && ulimit -H -t $((cpu + 1)) || exit 112; exec "$@"';
    command = "/bin/sh";
    args = ["-c", script, "cloister-launch", String(r.limits.cpuSeconds), ...cg.procsFiles, "--", ...drop, support.bwrap ?? "bwrap", ...inner];
  } else {
    r.onWarning?.(UNSANDBOXED_WARNING);
    command = process.execPath;
    args = ["--no-warnings", "--import", `file://${r.runtimeDir}/bridge.mjs`, `${r.bundleDir}/${r.entry}`];
  }
  const child = spawn(command, args, {
    stdio,
    env: sandboxed ? {} : { ...r.env, CLOISTER_EGRESS_SOCKET: r.socketPath, PATH: "/usr/bin:/bin" },
    cwd: sandboxed ? "/" : r.runtimeDir,
  });
  if (seccomp) {
    const fd3 = child.stdio[3] as (NodeJS.WritableStream & { on(e: "error", cb: () => void): unknown }) | null;
    fd3?.on("error", () => {});
    fd3?.end(seccomp);
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outLen = 0;
  let errLen = 0;
  let outcome: RunOutcome | null = null;
  const kill = (why: RunOutcome): void => {
    outcome ??= why;
    child.kill("SIGKILL");
  };
  child.stdout?.on("data", (d: Buffer) => {
    outLen += d.length;
    if (outLen > r.limits.outputBytes) return kill("output_too_large");
    out.push(d);
  });
  child.stderr?.on("data", (d: Buffer) => {
    if (errLen < STDERR_CAP) err.push(d.subarray(0, STDERR_CAP - errLen));
    errLen += d.length;
  });
  for (const s of [child.stdin, child.stdout, child.stderr]) s?.on("error", () => {});
  child.stdin?.end(Buffer.from(r.input));
  const timer = setTimeout(() => kill("wall_time_exceeded"), r.limits.wallSeconds * 1000);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (c, s) => resolve({ code: c, signal: s }));
    child.on("error", () => resolve({ code: null, signal: null }));
  });
  clearTimeout(timer);
  const memoryExceeded = cg?.memoryExceeded() ?? false;
  const memoryPeakBytes = cg?.peakBytes() ?? null;
  cg?.destroy();
  const stderr = Buffer.concat(err);
  if (outcome === null) {
    if (memoryExceeded || /heap out of memory|Allocation failed/.test(stderr.toString("latin1"))) outcome = "memory_exceeded";
    else if (signal === "SIGXCPU" || code === 128 + 24) outcome = "cpu_time_exceeded";
    else if (code === 0) outcome = "ok";
    else if (signal !== null) outcome = "killed";
    else outcome = "exit_nonzero";
  }
  return { outcome, exitCode: code, signal, stdout: Buffer.concat(out), stderr, durationMs: performance.now() - started, sandboxed, seccomp: seccomp !== null, memoryPeakBytes };
}
