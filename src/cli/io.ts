/** What a command may touch: passed in so commands run in-process in tests. */
export interface CliIO {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Raw stdout, no newline added: lets `chat` stream token by token. Optional (tests may omit it). */
  readonly write?: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Aborted on SIGINT/SIGTERM for long-running commands (`up`). */
  readonly signal?: AbortSignal;
}

export type Command = (args: string[], io: CliIO) => Promise<number>;

export function processIO(signal?: AbortSignal): CliIO {
  return {
    out: (t) => process.stdout.write(t.endsWith("\n") ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith("\n") ? t : `${t}\n`),
    write: (t) => void process.stdout.write(t),
    env: process.env,
    cwd: process.cwd(),
    ...(signal ? { signal } : {}),
  };
}

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Resolves when a long-running command should stop: on the IO's abort signal, or, when
 * the IO has none (a direct call), on SIGINT/SIGTERM.
 */
export function untilStopped(io: CliIO): Promise<void> {
  let stop = io.signal;
  if (!stop) {
    const ac = new AbortController();
    process.once("SIGINT", () => ac.abort());
    process.once("SIGTERM", () => ac.abort());
    stop = ac.signal;
  }
  const s = stop;
  return new Promise<void>((done) => (s.aborted ? done() : s.addEventListener("abort", () => done(), { once: true })));
}
