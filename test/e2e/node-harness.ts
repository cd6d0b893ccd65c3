/**
 * Runs `cloister up` in-process (the real command, real server on 127.0.0.1:0) and hands
 * back its URL and captured output; `stop()` aborts it like SIGINT would.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { upCommand } from "../../src/cli/commands/up.js";
import type { CliIO } from "../../src/cli/io.js";

export interface RunningNode {
  readonly url: string;
  readonly dataDir: string;
  readonly out: string[];
  readonly err: string[];
  stop(): Promise<number>;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), "cloister-node-"));
}

export async function startNode(args: string[], dataDir = tempDataDir()): Promise<RunningNode> {
  const out: string[] = [];
  const err: string[] = [];
  const ac = new AbortController();
  let announce: (url: string) => void = () => {};
  const ready = new Promise<string>((resolve) => (announce = resolve));
  const io: CliIO = {
    out: (t) => {
      out.push(t);
      const m = /at (http:\/\/[^ ]+)\/v1/.exec(t);
      if (m?.[1]) announce(m[1]);
    },
    err: (t) => void err.push(t),
    env: { HOME: dataDir, CLOISTER_THREADS: "1" },
    cwd: process.cwd(),
    signal: ac.signal,
  };
  const done = upCommand(["--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, "--threads", "1", ...args], io);
  const url = await Promise.race([ready, done.then((code) => Promise.reject(new Error(`cloister up exited ${code}: ${err.join("\n")}`)))]);
  return {
    url,
    dataDir,
    out,
    err,
    stop: async () => {
      ac.abort();
      return done;
    },
  };
}
