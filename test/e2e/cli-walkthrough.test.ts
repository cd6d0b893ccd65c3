/**
 * The user's walk through the BUILT command (`npm run build`, then `bin/cloister.js` as
 * child processes, exactly as installed): `cloister up` on a local model, the official
 * openai client, `cloister verify` with and without --allow-simulated, `cloister chat`
 * (streamed and --json), Ctrl-C, and `cloister up` with no model and no network.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedPath } from "../../src/util/shared.js";
import { testModelPath } from "../fixtures/tiny-gguf.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "bin", "cloister.js");
const built = existsSync(join(root, "dist", "cli", "main.js"));
const stories = sharedPath("models", "stories260K.gguf");

if (built && statSync(join(root, "dist", "cli", "commands", "up.js")).mtimeMs < statSync(join(root, "src", "cli", "commands", "up.ts")).mtimeMs) {
  console.warn("cli-walkthrough: dist/ is older than src/ — run `npm run build` (npm test does) or this tests stale code");
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** How many separate writes reached stdout (token-by-token streaming shows several). */
  readonly stdoutChunks: number;
}

function env(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // No CLOISTER_* from the caller's shell; HF_ENDPOINT points at a closed local port so no
  // test can ever start a real download (the discard port: nothing listens there).
  const { PATH, SYSTEMROOT } = process.env;
  return { ...(PATH ? { PATH } : {}), ...(SYSTEMROOT ? { SYSTEMROOT } : {}), HOME: home, HF_ENDPOINT: "http://127.0.0.1:9/", CLOISTER_THREADS: "1", ...extra };
}

function run(args: string[], home: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: env(home), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let stdoutChunks = 0;
    child.stdout.on("data", (d: Buffer) => ((stdout += d.toString("utf8")), stdoutChunks++));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, stdoutChunks });
    });
  });
}

const noStack = (s: string): boolean => !/^\s+at .+[:(]\d+/m.test(s);

describe.skipIf(!built)(`cloister walkthrough with the built bin${built ? "" : " (skipped: dist/ missing — run npm run build)"}`, () => {
  const home = mkdtempSync(join(tmpdir(), "cloister-walk-"));
  let up: ChildProcess;
  let upOut = "";
  let upErr = "";
  let url = "";
  let upExit: Promise<number | null>;

  beforeAll(async () => {
    const model = await testModelPath();
    up = spawn(process.execPath, [bin, "up", "--model", model, "--no-auth", "--port", "0", "--tee", "simulated", "--data-dir", join(home, "data")], {
      cwd: root,
      env: env(home),
      stdio: ["ignore", "pipe", "pipe"],
    });
    upExit = new Promise((r) => up.once("exit", (code) => r(code)));
    url = await new Promise<string>((resolve, reject) => {
      // The "node started" log line (stderr) follows the whole banner (stdout).
      const ready = (): void => {
        const m = /at (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(upOut);
        if (m?.[1] && upErr.includes('"msg":"node started"')) resolve(m[1]);
      };
      up.stdout?.on("data", (d: Buffer) => ((upOut += d.toString("utf8")), ready()));
      up.stderr?.on("data", (d: Buffer) => ((upErr += d.toString("utf8")), ready()));
      void upExit.then((code) => reject(new Error(`cloister up exited early (${code}): ${upErr}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (up && up.exitCode === null) {
      up.kill("SIGKILL");
      await upExit;
    }
  });

  it("up announces the simulated TEE in capitals and the missing auth", () => {
    expect(upOut).toContain("SIMULATED TEE");
    expect(upOut).toMatch(/signing address 0x[0-9a-f]{40}/);
    expect(upOut).toContain("WARNING: --no-auth");
  });

  it("serves the official openai client, streamed and not", async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
    const model = (await client.models.list()).data[0]?.id ?? "";
    const plain = await client.completions.create({ model, prompt: "Once upon a time", max_tokens: 16, temperature: 0 });
    const stream = await client.completions.create({ model, prompt: "Once upon a time", max_tokens: 16, temperature: 0, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe(plain.choices[0]?.text);
    expect(text.length).toBeGreaterThan(0);
    if (stories) expect(`Once upon a time${text}`.startsWith("Once upon a time, there was a little girl named Lily")).toBe(true);
  });

  it("verify exits 0 with --allow-simulated and 1 with SIMULATED_NOT_ALLOWED without it", async () => {
    const ok = await run(["verify", url, "--allow-simulated"], home);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("VERIFIED");
    const refused = await run(["verify", url], home);
    expect(refused.code).toBe(1);
    expect(refused.stdout + refused.stderr).toContain("SIMULATED_NOT_ALLOWED");
  });

  it("chat streams a verified answer, and --json reports it verified and end-to-end encrypted", async () => {
    const streamed = await run(["chat", "--url", url, "--allow-simulated", "--max-tokens", "16", "Once upon a time"], home);
    expect(streamed.code).toBe(0);
    expect(streamed.stdout.trim().length).toBeGreaterThan(0);
    expect(streamed.stderr).toContain("SIMULATED");
    const json = await run(["chat", "--url", url, "--allow-simulated", "--json", "--max-tokens", "16", "Once upon a time"], home);
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(r).toMatchObject({ verified: true, tee: "simulated", e2ee: true });
    expect(typeof r["content"]).toBe("string");
    expect(r["signingAddress"]).toBe(/signing address (0x[0-9a-f]{40})/.exec(upOut)?.[1]);
    const refused = await run(["chat", "--url", url, "--max-tokens", "4", "hi"], home);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("SIMULATED_NOT_ALLOWED");
  });

  it("stops cleanly on SIGINT (exit 0)", async () => {
    up.kill("SIGINT");
    expect(await upExit).toBe(0);
    expect(upErr).toContain('"msg":"stopped"');
  });

  it("up with no model and no network says what to pass, without a stack trace, and exits 2", async () => {
    const r = await run(["up", "--port", "0", "--tee", "simulated"], mkdtempSync(join(tmpdir(), "cloister-walk-nomodel-")));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MODEL_UNAVAILABLE: .*--model PATH/);
    expect(noStack(r.stderr)).toBe(true);
    const missing = await run(["up", "--port", "0", "--tee", "simulated", "--model", join(home, "nope.gguf")], home);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--model PATH");
    expect(noStack(missing.stderr)).toBe(true);
  });

  it.skipIf(existsSync("/var/run/dstack.sock"))("up --tee dstack without the guest agent socket says so and exits 2", async () => {
    const r = await run(["up", "--port", "0", "--tee", "dstack", "--model", join(home, "nope.gguf")], home);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/TEE_NOT_FOUND: --tee dstack needs the dstack guest agent socket/);
    expect(noStack(r.stderr)).toBe(true);
  });
});
