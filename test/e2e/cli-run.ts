/** `cloister` commands run in-process for e2e tests (src/cli/main.ts), with their output captured. */
import { expect } from "vitest";
import { main } from "../../src/cli/main.js";

export interface CliRun {
  readonly code: number;
  /** Everything written to stdout, one line per call. */
  readonly out: string;
  readonly err: string;
}

export async function runCli(args: readonly string[], opts: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv }): Promise<CliRun> {
  let out = "";
  let err = "";
  const code = await main([...args], { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`), env: opts.env ?? {}, cwd: opts.cwd });
  return { code, out, err };
}

/** Runs a command that must succeed (its stderr is the failure message); its stdout, trimmed. */
export async function cliOk(args: readonly string[], opts: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv }): Promise<string> {
  const r = await runCli(args, opts);
  expect(r.code, r.err).toBe(0);
  return r.out.trim();
}
