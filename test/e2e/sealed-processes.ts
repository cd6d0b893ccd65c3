/**
 * Test-only: `cloister kms up` and `cloister up` as real child processes (node-child.ts,
 * straight from the sources) on 127.0.0.1, and the owner's commands in-process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/io.js";

export interface Child {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly out: () => string;
  readonly err: () => string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

const CHILD = fileURLToPath(new URL("./node-child.ts", import.meta.url));

/** Starts the CLI; resolves once `ready` matches stdout (its first group is the URL), rejects if it exits first. */
export function spawnCli(args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<Child> & { early: Promise<{ code: number | null; out: string; err: string }> } {
  const proc = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CLOISTER_THREADS: "1", ...env } });
  let out = "";
  let err = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const early = exited.then((code) => ({ code, out, err }));
  const started = new Promise<Child>((resolve, reject) => {
    const check = (): void => {
      const m = ready.exec(out);
      if (m?.[1]) {
        resolve({
          proc,
          url: m[1],
          out: () => out,
          err: () => err,
          exited,
          stop: async () => {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
            return exited;
          },
        });
      }
    };
    proc.stdout!.on("data", check);
    void exited.then((code) => reject(new Error(`cloister ${args[0]} exited ${code} before it was ready:\n${out}\n${err}`)));
  });
  // Callers that want the early exit await `early`; the unready start is not an error for them.
  started.catch(() => undefined);
  return Object.assign(started, { early });
}

export const BROKER_READY = /serving at (http:\/\/\S+)/;
export const NODE_READY = /at (http:\/\/[^ ]+)\/v1[\s\S]*signing address 0x[0-9a-f]{40}/;

/** Runs a CLI command in-process; returns its exit code and output. */
export async function cli(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => void out.push(t), err: (t) => void err.push(t), env: { HOME: cwd }, cwd };
  const code = await main(args, io);
  return { code, out: out.join("\n"), err: err.join("\n") };
}
