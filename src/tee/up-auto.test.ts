import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { upCommand } from "../cli/commands/up.js";
import type { CliIO } from "../cli/io.js";
import { configfsTsmAvailable } from "./configfs-tsm.js";
import { dstackAvailable } from "./dstack.js";
import { gpuCcModeOn } from "./gpu-evidence-config.js";

const onHardware = configfsTsmAvailable() || dstackAvailable();

/** `cloister up --tee auto` in-process (upstream mode: no model needed, no connection at start). */
async function upAuto(extra: string[], env: Record<string, string> = {}): Promise<{ out: string[]; err: string[]; code: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), "cloister-up-auto-"));
  const out: string[] = [];
  const err: string[] = [];
  const ac = new AbortController();
  let ready: () => void = () => {};
  const started = new Promise<void>((r) => (ready = r));
  const io: CliIO = {
    out: (t) => {
      out.push(t);
      if (/SIMULATED TEE|auth=/.test(t)) ready();
    },
    err: (t) => void err.push(t),
    env: { HOME: dataDir, ...env },
    cwd: process.cwd(),
    signal: ac.signal,
  };
  const done = upCommand(["--tee", "auto", "--upstream", "http://127.0.0.1:9", "--no-auth", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, ...extra], io);
  await Promise.race([started, done]);
  // Let the remaining banner lines print before stopping.
  await new Promise((r) => setTimeout(r, 50));
  ac.abort();
  return { out, err, code: await done };
}

describe.skipIf(onHardware)(`cloister up --tee auto off-TEE${onHardware ? " (skipped: this machine has configfs-tsm or a dstack socket)" : ""}`, () => {
  it("picks the simulator and says SIMULATED, with GPU evidence on auto", async () => {
    const r = await upAuto([]);
    const text = r.out.join("\n");
    expect(text).toMatch(/tee=simulated /);
    expect(text).toContain("SIMULATED TEE: no hardware protection — for development only");
    expect(text).not.toContain("GPU evidence:");
    expect(r.code).toBe(0);
  });

  it("never probes the GPU driver when it falls back to the simulator", async () => {
    // A fake nvidia-smi first on PATH that says CC is on and leaves a marker when run.
    const bin = mkdtempSync(join(tmpdir(), "fake-smi-"));
    const marker = join(bin, "ran");
    writeFileSync(join(bin, "nvidia-smi"), `#!/bin/sh\ntouch "${marker}"\necho "CC status: ON"\n`);
    chmodSync(join(bin, "nvidia-smi"), 0o755);
    const path = process.env["PATH"];
    process.env["PATH"] = `${bin}:${path ?? ""}`;
    try {
      // Control: resolving auto does run it (and finds CC on).
      expect(await gpuCcModeOn()).toBe(true);
      expect(existsSync(marker)).toBe(true);
      rmSync(marker);
      const r = await upAuto([]);
      expect(r.out.join("\n")).toContain("SIMULATED TEE");
      expect(existsSync(marker)).toBe(false);
    } finally {
      process.env["PATH"] = path;
    }
  });
});
