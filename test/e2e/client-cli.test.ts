import { describe, expect, it } from "vitest";
import { chatCommand } from "../../src/cli/commands/chat.js";
import type { CliIO } from "../../src/cli/io.js";
import { UNPINNED_SIMULATED_WARNING } from "../../src/client/pins.js";
import { ANSWER } from "./client-fixtures.js";
import { useNodeBehindProxy } from "./client-env.js";

function captureIO(): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => void stdout.push(t), err: (t) => void stderr.push(t), env: {}, cwd: process.cwd() };
}

const env = useNodeBehindProxy();

describe("cloister chat", () => {
  it("--json prints a verified, end-to-end sealed answer", async () => {
    const io = captureIO();
    const code = await chatCommand(["--url", env.proxy.url, "--allow-simulated", "--json", "tell", "me", "about", "wombat-lanterns"], io);
    // No policy, no pin: said every time (issue 7, item 5), and nothing else on stderr.
    expect(io.stderr).toEqual([UNPINNED_SIMULATED_WARNING]);
    expect(code).toBe(0);
    const out = JSON.parse(io.stdout.join("")) as Record<string, unknown>;
    expect(out).toMatchObject({ verified: true, tee: "simulated", e2ee: true, content: ANSWER, model: "fake" });
    expect(out["signingAddress"]).toMatch(/^0x[0-9a-f]{40}$/);
    expect(env.proxy.wire()).not.toContain("wombat");
  });

  it("streams the answer as text", async () => {
    const io = captureIO();
    expect(await chatCommand(["--url", `${env.proxy.url}/v1`, "--model", "fake", "--allow-simulated", "hello"], io)).toBe(0);
    expect(io.stdout.join("")).toBe(ANSWER);
    expect(io.stderr.join("")).toContain("SIMULATED");
  });

  it("exits 1 with the reason when verification fails", async () => {
    const io = captureIO();
    expect(await chatCommand(["--url", env.proxy.url, "--json", "hello"], io)).toBe(1);
    expect(io.stderr.join("")).toMatch(/ATTESTATION_FAILED: .*SIMULATED_NOT_ALLOWED/);
    expect(JSON.parse(io.stdout.join(""))).toMatchObject({ verified: false, error: { code: "ATTESTATION_FAILED" } });
    env.proxy.tamper = { responseChunk: (p, i, c) => (p.startsWith("/v1/chat/completions") && i === 0 ? Buffer.from(c.map((b, j) => (j === 9 ? b ^ 1 : b))) : undefined) };
    try {
      const io2 = captureIO();
      expect(await chatCommand(["--url", env.proxy.url, "--model", "fake", "--allow-simulated", "hello"], io2)).toBe(1);
      expect(io2.stderr.join("")).toContain("E2E_DECRYPT_FAILED");
    } finally {
      env.proxy.tamper = {};
    }
  });

  it("exits 2 on bad usage", async () => {
    const io = captureIO();
    expect(await chatCommand(["hello"], io)).toBe(2);
  });
});
