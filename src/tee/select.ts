/**
 * Picks the node's TEE provider. `auto` prefers real hardware: configfs-tsm when the
 * kernel exposes it, else a dstack guest agent socket, else the simulator — which the
 * caller must announce loudly (it protects nothing).
 */
import type { TeeProvider } from "../attest/provider.js";
import { createSimulatorProvider } from "../attest/simulator/provider.js";
import { ConfigError, isCloisterError } from "../errors.js";
import { configfsTsmAvailable, createConfigfsTsmProvider, readTsmProvider, TSM_REPORT_PATH, type TsmFs, type TsmProviderName } from "./configfs-tsm.js";
import { createDstackProvider, dstackAvailable, DSTACK_SOCKET_PATH } from "./dstack.js";
import type { GpuEvidenceSource } from "./nvidia-gpu.js";

export type TeeKind = "auto" | "tdx" | "sev-snp" | "dstack" | "simulated";
export const TEE_KINDS: readonly TeeKind[] = ["auto", "tdx", "sev-snp", "dstack", "simulated"];

export interface SelectTeeOptions {
  readonly tsmPath?: string;
  readonly dstackSocket?: string;
  /** configfs-tsm file operations; tests pass a fake kernel. */
  readonly tsmFs?: TsmFs;
  /** NVIDIA evidence for hardware providers (src/tee/gpu-evidence-config.ts); the simulator makes its own. */
  readonly gpuEvidence?: GpuEvidenceSource | null;
  /**
   * Called only once a hardware provider is chosen (so `auto` falling back to the simulator
   * never probes the GPU driver); its result wins over `gpuEvidence`. Errors propagate.
   */
  readonly resolveGpuEvidence?: () => Promise<GpuEvidenceSource | null>;
}

/** The configfs-tsm provider each explicit --tee kind must find. */
const TSM_PROVIDER_FOR: Readonly<Record<"tdx" | "sev-snp", TsmProviderName>> = { tdx: "tdx_guest", "sev-snp": "sev_guest" };

/**
 * Throws ConfigError (the CLI exits 2) when the named TEE is not what this machine has:
 * a node started with `--tee tdx` on an SEV-SNP guest would otherwise attest as SEV-SNP
 * while its operator believes it is TDX.
 */
export async function selectTeeProvider(kind: TeeKind, opts: SelectTeeOptions = {}): Promise<TeeProvider> {
  const tsmPath = opts.tsmPath ?? TSM_REPORT_PATH;
  const socket = opts.dstackSocket ?? DSTACK_SOCKET_PATH;
  const gpuOpt = async (): Promise<{ gpuEvidence?: GpuEvidenceSource }> => {
    const source = opts.resolveGpuEvidence ? await opts.resolveGpuEvidence() : (opts.gpuEvidence ?? null);
    return source ? { gpuEvidence: source } : {};
  };
  const fsOpt = async (): Promise<{ fs?: TsmFs; gpuEvidence?: GpuEvidenceSource }> => ({ ...(opts.tsmFs ? { fs: opts.tsmFs } : {}), ...(await gpuOpt()) });
  switch (kind) {
    case "tdx":
    case "sev-snp": {
      if (!configfsTsmAvailable(tsmPath)) throw new ConfigError("TEE_NOT_FOUND", `--tee ${kind} needs ${tsmPath} (Linux >= 6.7 inside a confidential VM); use --tee simulated for development`);
      let provider: string;
      try {
        provider = await readTsmProvider(tsmPath, opts.tsmFs);
      } catch (cause) {
        const why = isCloisterError(cause) ? cause.message : cause instanceof Error ? cause.message : String(cause);
        throw new ConfigError("TEE_NOT_FOUND", `--tee ${kind}: cannot read the configfs-tsm provider (${why})`, { cause });
      }
      const want = TSM_PROVIDER_FOR[kind];
      if (provider !== want) {
        throw new ConfigError(
          "TEE_MISMATCH",
          `--tee ${kind} needs configfs-tsm provider "${want}" but this machine's is "${provider || "(none)"}"; pass the --tee that matches (${provider === "sev_guest" ? "sev-snp" : provider === "tdx_guest" ? "tdx" : "simulated"}) or --tee auto`,
        );
      }
      return createConfigfsTsmProvider({ basePath: tsmPath, ...(await fsOpt()) });
    }
    case "dstack":
      if (!dstackAvailable(socket)) {
        throw new ConfigError("TEE_NOT_FOUND", `--tee dstack needs the dstack guest agent socket at ${socket} (mount it into the container: -v ${socket}:${socket}); use --tee simulated for development`);
      }
      return createDstackProvider({ socketPath: socket, ...(await gpuOpt()) });
    case "simulated":
      return createSimulatorProvider();
    case "auto":
      if (configfsTsmAvailable(tsmPath)) {
        // Hardware is there: a provider we cannot use must stop the start, not quietly
        // become the simulator (or a node whose every attestation fails).
        const provider = await readTsmProvider(tsmPath, opts.tsmFs).catch((cause: unknown) => {
          const why = isCloisterError(cause) ? cause.message : cause instanceof Error ? cause.message : String(cause);
          throw new ConfigError("TEE_NOT_FOUND", `${tsmPath} exists but cannot be used (${why}); run as a user that may write to it, or pass --tee simulated for development`, { cause });
        });
        if (provider !== "tdx_guest" && provider !== "sev_guest") {
          throw new ConfigError("TEE_MISMATCH", `configfs-tsm provider "${provider}" is not supported (expected tdx_guest or sev_guest); pass --tee dstack or --tee simulated`);
        }
        return createConfigfsTsmProvider({ basePath: tsmPath, ...(await fsOpt()) });
      }
      if (dstackAvailable(socket)) return createDstackProvider({ socketPath: socket, ...(await gpuOpt()) });
      return createSimulatorProvider();
  }
}
