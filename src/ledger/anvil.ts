/**
 * The embedded default chain: anvil from the `@foundry-rs/anvil` npm package (its binary
 * ships in a per-platform optional package, so nothing downloads at run time). Started on
 * 127.0.0.1 with `--port 0` and the port read back from its "Listening on" line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { LedgerError } from "./errors.js";

export interface AnvilOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Keeps the chain's state across restarts (`anvil --state DIR/anvil-state.json`). */
  readonly dataDir?: string;
  readonly chainId?: number;
  /** Milliseconds to wait for anvil to listen. Default 20 s. */
  readonly startTimeoutMs?: number;
}

export interface Anvil {
  readonly rpcUrl: string;
  readonly port: number;
  readonly chainId: number;
  stop(): Promise<void>;
}

/** anvil's default mnemonic's first ten keys ("test test ... junk"): public, local use only. */
export const ANVIL_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
  "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
  "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
  "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
] as const satisfies readonly `0x${string}`[];

export function anvilBinary(): string {
  const fromEnv = process.env.CLOISTER_ANVIL;
  if (fromEnv) return fromEnv;
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const req = createRequire(import.meta.url);
    const bin = join(dirname(req.resolve(`${pkg}/package.json`)), "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
    if (existsSync(bin)) return bin;
  } catch {
    // fall through to the typed error below
  }
  throw new LedgerError("ANVIL_NOT_FOUND", `anvil binary not found (npm package ${pkg}); set CLOISTER_ANVIL to a path`);
}

export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  const chainId = opts.chainId ?? 31337;
  const args = ["--host", "127.0.0.1", "--port", String(opts.port ?? 0), "--chain-id", String(chainId)];
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    args.push("--state", join(opts.dataDir, "anvil-state.json"));
  }
  const child = spawn(anvilBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
  const port = await waitForPort(child, opts.startTimeoutMs ?? 20_000);
  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    port,
    chainId,
    stop: () => stopChild(child),
  };
}

function waitForPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => fail(new LedgerError("ANVIL_START_FAILED", "anvil did not start listening in time")), timeoutMs);
    const onData = (chunk: Buffer): void => {
      seen = (seen + chunk.toString("utf8")).slice(-4096);
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(seen);
      if (m?.[1]) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume(); // keep draining so anvil never blocks on a full pipe
        child.stderr?.resume();
        resolve(Number(m[1]));
      }
    };
    const fail = (err: LedgerError): void => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(err);
    };
    child.stdout?.on("data", onData);
    child.once("error", (e) => fail(new LedgerError("ANVIL_START_FAILED", `anvil could not start: ${e.message}`)));
    child.once("exit", (code) => fail(new LedgerError("ANVIL_START_FAILED", `anvil exited (${code}) before listening: ${seen.slice(-300)}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    child.kill("SIGTERM"); // anvil writes --state on SIGTERM
  });
}
