/**
 * The node's one way to start a child process (STYLE "Ours" 6): evidence collectors and
 * driver probes run through here, never through a shell we did not ask for, always with
 * a time limit and a cap on what we read back. It never throws: a tool that is missing,
 * hangs or dies is an outcome the caller maps to its own typed error.
 */
import { execFile } from "node:child_process";

export interface CommandOptions {
  /** Killed (SIGKILL) after this long; `timedOut` is then true. */
  readonly timeoutMs: number;
  /** stdout/stderr beyond this many bytes kills the child (`overflow`). Default 16 MiB. */
  readonly maxOutputBytes?: number;
  /** Added to the parent's environment (not replacing it: collectors need PATH, LD_LIBRARY_PATH). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface CommandResult {
  /** The exit code, or null when a signal ended it or it never started. */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly overflow: boolean;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  readonly startError: string | null;
}

/** Runs `argv[0]` with `argv.slice(1)` (no shell). */
export type CommandRunner = (argv: readonly string[], opts: CommandOptions) => Promise<CommandResult>;

export const runCommand: CommandRunner = (argv, opts) =>
  new Promise((resolve) => {
    const [file, ...args] = argv;
    if (!file) {
      resolve({ exitCode: null, stdout: "", stderr: "", timedOut: false, overflow: false, startError: "empty command" });
      return;
    }
    execFile(
      file,
      args,
      {
        timeout: opts.timeoutMs,
        killSignal: "SIGKILL",
        maxBuffer: opts.maxOutputBytes ?? 16 * 1024 * 1024,
        env: { ...process.env, ...(opts.env ?? {}) },
        encoding: "utf8",
        windowsHide: true,
      },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ exitCode: 0, stdout, stderr, timedOut: false, overflow: false, startError: null });
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: string | number | null };
        // execFile reports a spawn failure with a string errno code, an exit with a number.
        const startError = typeof e.code === "string" && e.code !== "ERR_CHILD_PROCESS_STDIO_MAXBUFFER" ? `${e.code}: ${e.message}` : null;
        const overflow = e.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER";
        resolve({
          exitCode: typeof e.code === "number" ? e.code : null,
          stdout: String(stdout ?? ""),
          stderr: String(stderr ?? ""),
          timedOut: e.killed === true && !overflow && e.signal === "SIGKILL",
          overflow,
          startError,
        });
      },
    );
  });
