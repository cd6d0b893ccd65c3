import { mkdtempSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadNodeConfig } from "../config/node-config.js";
import { ccStatusOn, gpuCcModeOn, parseGpuEvidenceSetting, resolveGpuEvidence } from "./gpu-evidence-config.js";
import type { CommandResult, CommandRunner } from "./run-command.js";
import { runCommand } from "./run-command.js";
import { selectTeeProvider } from "./select.js";
import type { TsmFs } from "./configfs-tsm.js";

const ok = (stdout: string): CommandResult => ({ exitCode: 0, stdout, stderr: "", timedOut: false, overflow: false, startError: null });
const missing: CommandResult = { exitCode: null, stdout: "", stderr: "", timedOut: false, overflow: false, startError: "ENOENT: spawn" };

/** A fake machine: which programs exist and what `nvidia-smi conf-compute -f` prints. */
function machine(tools: { smi?: string; nvattest?: boolean; python?: boolean }): { run: CommandRunner; calls: string[][] } {
  const calls: string[][] = [];
  const run: CommandRunner = async (argv) => {
    calls.push([...argv]);
    if (argv[0] === "nvidia-smi") return tools.smi === undefined ? missing : ok(tools.smi);
    if (argv[0] === "nvattest") return tools.nvattest ? ok('{"nvattest":"1.0"}') : missing;
    if (argv[0] === "python3") return tools.python ? ok("") : { ...ok(""), exitCode: 1 };
    return missing;
  };
  return { run, calls };
}

describe("--gpu-evidence setting", () => {
  it("parses auto, none and a command, from the flag or CLOISTER_GPU_EVIDENCE", () => {
    expect(parseGpuEvidenceSetting(undefined)).toEqual({ kind: "auto" });
    expect(parseGpuEvidenceSetting("none")).toEqual({ kind: "none" });
    expect(parseGpuEvidenceSetting("nvattest collect-evidence --nonce {nonce}")).toEqual({ kind: "command", command: "nvattest collect-evidence --nonce {nonce}" });
    expect(loadNodeConfig([], {}, "/").gpuEvidence).toEqual({ kind: "auto" });
    expect(loadNodeConfig([], { CLOISTER_GPU_EVIDENCE: "none" }, "/").gpuEvidence).toEqual({ kind: "none" });
    expect(loadNodeConfig(["--gpu-evidence", "my-collector {nonce}"], { CLOISTER_GPU_EVIDENCE: "none" }, "/").gpuEvidence).toEqual({ kind: "command", command: "my-collector {nonce}" });
  });

  it("reads CC mode from nvidia-smi conf-compute -f", () => {
    expect(ccStatusOn("CC status: ON\n")).toBe(true);
    expect(ccStatusOn("CC status: OFF\n")).toBe(false);
    expect(ccStatusOn("Confidential Compute is not supported\n")).toBe(false);
  });

  it("auto: no collector without a driver that says CC is on", async () => {
    for (const smi of [undefined, "CC status: OFF\n"]) {
      const m = machine({ ...(smi === undefined ? {} : { smi }), nvattest: true, python: true });
      expect((await resolveGpuEvidence({ kind: "auto" }, { run: m.run })).source).toBeNull();
      expect(m.calls.map((c) => c[0])).toEqual(["nvidia-smi"]);
    }
  });

  it("auto: CC on picks nvattest, else nvtrust's Python verifier, else refuses to start", async () => {
    const a = await resolveGpuEvidence({ kind: "auto" }, machine({ smi: "CC status: ON", nvattest: true, python: true }));
    expect([a.source !== null, a.description]).toEqual([true, "nvattest"]);
    const b = await resolveGpuEvidence({ kind: "auto" }, machine({ smi: "CC status: ON", python: true }));
    expect(b.description).toMatch(/cc_admin/);
    await expect(resolveGpuEvidence({ kind: "auto" }, machine({ smi: "CC status: ON" }))).rejects.toMatchObject({ name: "ConfigError", code: "GPU_COLLECTOR_NOT_FOUND" });
  });

  it("auto with the real nvidia-smi: none unless the driver says CC is on (a missing nvidia-smi is not an error)", async () => {
    const on = await gpuCcModeOn(runCommand);
    const r = resolveGpuEvidence({ kind: "auto" }, { run: runCommand });
    if (on) await expect(r.then((x) => String(x.source !== null)).catch((e: { code?: string }) => e.code)).resolves.toMatch(/true|GPU_COLLECTOR_NOT_FOUND/);
    else expect((await r).source).toBeNull();
  });

  it("none never probes; a command is used as given", async () => {
    const m = machine({ smi: "CC status: ON", nvattest: true });
    expect((await resolveGpuEvidence({ kind: "none" }, { run: m.run })).source).toBeNull();
    expect((await resolveGpuEvidence({ kind: "command", command: "x {nonce}" }, { run: m.run })).source).not.toBeNull();
    expect(m.calls).toEqual([]);
  });
});

describe("TEE selection with GPU evidence", () => {
  const missingPath = join(tmpdir(), "definitely-not-here");

  it("--tee auto off-TEE stays the simulator and never asks for GPU evidence", async () => {
    let asked = 0;
    const p = await selectTeeProvider("auto", { tsmPath: missingPath, dstackSocket: missingPath, resolveGpuEvidence: async () => (asked++, null) });
    expect(p.simulated).toBe(true);
    expect(asked).toBe(0);
  });

  it("a hardware provider gets the resolved collector as its getGpuEvidence, and resolution errors stop the start", async () => {
    const base = mkdtempSync(join(tmpdir(), "tsm-gpu-sel-"));
    const fs: TsmFs = {
      async mkdir(p) {
        await fsp.mkdir(p);
        await fsp.writeFile(join(p, "provider"), "tdx_guest\n");
      },
      rmdir: (p) => fsp.rm(p, { recursive: true }),
      readFile: (p) => fsp.readFile(p),
      writeFile: (p, d) => fsp.writeFile(p, d),
    };
    const p = await selectTeeProvider("tdx", { tsmPath: base, tsmFs: fs, resolveGpuEvidence: async () => async (n) => `gpu:${n.length}` });
    expect(await p.getGpuEvidence(new Uint8Array(32))).toBe("gpu:32");
    const none = await selectTeeProvider("tdx", { tsmPath: base, tsmFs: fs, resolveGpuEvidence: async () => null });
    expect(await none.getGpuEvidence(new Uint8Array(32))).toBeNull();
    await expect(
      selectTeeProvider("tdx", { tsmPath: base, tsmFs: fs, resolveGpuEvidence: () => resolveGpuEvidence({ kind: "auto" }, machine({ smi: "CC status: ON" })).then((r) => r.source) }),
    ).rejects.toMatchObject({ code: "GPU_COLLECTOR_NOT_FOUND" });
  });
});

describe("GPU evidence start-up check", () => {
  it("collects once for a fresh nonce and turns a failure into ConfigError GPU_EVIDENCE_UNUSABLE", async () => {
    const seen: string[] = [];
    const failing: CommandRunner = async (argv) => {
      seen.push(argv.join(" "));
      return { ...ok(""), exitCode: 1, stderr: "NVML error" };
    };
    await expect(resolveGpuEvidence({ kind: "command", command: "collect {nonce}" }, { run: failing, selfTest: true })).rejects.toMatchObject({
      name: "ConfigError",
      code: "GPU_EVIDENCE_UNUSABLE",
      message: expect.stringMatching(/GPU_COLLECTOR_FAILED/),
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^\/bin\/sh -c collect [0-9a-f]{64}$/);
    // Without selfTest nothing runs at resolve time.
    await resolveGpuEvidence({ kind: "command", command: "collect {nonce}" }, { run: failing });
    expect(seen).toHaveLength(1);
  });
});
