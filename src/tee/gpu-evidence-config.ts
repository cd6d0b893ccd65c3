/**
 * `--gpu-evidence auto|none|dstack|"<command>"` (env CLOISTER_GPU_EVIDENCE): where a hardware
 * node's NVIDIA evidence comes from. `auto` asks the driver whether confidential-computing
 * mode is on (`nvidia-smi conf-compute -f` prints "CC status: ON"), then uses NVIDIA's
 * `nvattest` if installed, else nvtrust's Python verifier. A CC GPU with no collector
 * stops the start: a node that silently drops its GPU evidence would look like a CPU-only
 * node to a verifier that does not insist. `dstack` asks the dstack guest agent (>= 0.6)
 * instead; it is never chosen by `auto` (older agents lack it).
 */
import { randomBytes } from "node:crypto";
import { ConfigError, isCloisterError } from "../errors.js";
import { createDstackGpuEvidence } from "./dstack-gpu.js";
import { createGpuEvidenceCollector, NVATTEST_ARGV, NVTRUST_PYTHON_ARGV, type GpuEvidenceSource } from "./nvidia-gpu.js";
import { runCommand, type CommandRunner } from "./run-command.js";

export type GpuEvidenceSetting = { readonly kind: "auto" } | { readonly kind: "none" } | { readonly kind: "dstack" } | { readonly kind: "command"; readonly command: string };

export function parseGpuEvidenceSetting(raw: string | undefined): GpuEvidenceSetting {
  const v = (raw ?? "auto").trim();
  if (v === "" || v === "auto") return { kind: "auto" };
  if (v === "none" || v === "off") return { kind: "none" };
  if (v === "dstack") return { kind: "dstack" };
  return { kind: "command", command: v };
}

/** "CC status: ON" in `nvidia-smi conf-compute -f` (driver >= 535); DevTools mode also reads ON there. */
export function ccStatusOn(nvidiaSmiOutput: string): boolean {
  return /CC\s+status\s*:\s*ON\b/i.test(nvidiaSmiOutput);
}

/** True only when the driver says CC mode is on; a missing, failing or silent nvidia-smi means no. */
export async function gpuCcModeOn(run: CommandRunner = runCommand): Promise<boolean> {
  const r = await run(["nvidia-smi", "conf-compute", "-f"], { timeoutMs: 15_000, maxOutputBytes: 1024 * 1024 });
  return r.exitCode === 0 && ccStatusOn(r.stdout);
}

export interface ResolvedGpuEvidence {
  readonly source: GpuEvidenceSource | null;
  /** For the start banner: "none (no CC-mode NVIDIA GPU)", "nvattest", "command: …". */
  readonly description: string;
}

export interface ResolveGpuOptions {
  readonly run?: CommandRunner;
  readonly timeoutMs?: number;
  /** For `dstack`: the guest agent socket (default /var/run/dstack.sock). */
  readonly dstackSocket?: string;
  /**
   * Collect and verify once for a random nonce before returning, so a collector that is
   * broken (wrong driver, evidence that does not verify) stops the start instead of
   * failing every client's attestation later.
   */
  readonly selfTest?: boolean;
}

export async function resolveGpuEvidence(setting: GpuEvidenceSetting, opts: ResolveGpuOptions = {}): Promise<ResolvedGpuEvidence> {
  const r = await choose(setting, opts);
  if (opts.selfTest && r.source) {
    try {
      await r.source(randomBytes(32));
    } catch (cause) {
      const why = isCloisterError(cause) ? `${cause.code}: ${cause.message}` : cause instanceof Error ? cause.message : String(cause);
      throw new ConfigError("GPU_EVIDENCE_UNUSABLE", `GPU evidence (${r.description}) failed its start-up check: ${why}; fix the collector or pass --gpu-evidence none`, { cause });
    }
  }
  return r;
}

async function choose(setting: GpuEvidenceSetting, opts: ResolveGpuOptions): Promise<ResolvedGpuEvidence> {
  const run = opts.run ?? runCommand;
  const base = { run, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) };
  switch (setting.kind) {
    case "none":
      return { source: null, description: "none" };
    case "dstack":
      return { source: createDstackGpuEvidence({ ...(opts.dstackSocket ? { socketPath: opts.dstackSocket } : {}), ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) }), description: "dstack guest agent (AttestGpu)" };
    case "command":
      return { source: createGpuEvidenceCollector({ ...base, command: setting.command }), description: `command: ${setting.command}` };
    case "auto": {
      if (!(await gpuCcModeOn(run))) return { source: null, description: "none (no CC-mode NVIDIA GPU)" };
      const probe = { timeoutMs: 30_000, maxOutputBytes: 1024 * 1024 };
      if ((await run(["nvattest", "version"], probe)).exitCode === 0) {
        return { source: createGpuEvidenceCollector({ ...base, command: NVATTEST_ARGV }), description: "nvattest" };
      }
      if ((await run(["python3", "-c", "import verifier.cc_admin"], probe)).exitCode === 0) {
        return { source: createGpuEvidenceCollector({ ...base, command: NVTRUST_PYTHON_ARGV }), description: "nvtrust cc_admin (python3)" };
      }
      throw new ConfigError(
        "GPU_COLLECTOR_NOT_FOUND",
        "the NVIDIA GPU is in confidential-computing mode but no evidence collector was found: install NVIDIA's nvattest or nvtrust's verifier (pip install nv-local-gpu-verifier), pass --gpu-evidence \"<command>\", or --gpu-evidence none to serve without GPU evidence",
      );
    }
  }
}
