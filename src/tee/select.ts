/**
 * Picks the node's TEE provider. `auto` prefers real hardware: configfs-tsm when the
 * kernel exposes it, else a dstack guest agent socket, else the simulator — which the
 * caller must announce loudly (it protects nothing).
 */
import type { TeeProvider } from "../attest/provider.js";
import { createSimulatorProvider } from "../attest/simulator/provider.js";
import { ConfigError } from "../errors.js";
import { configfsTsmAvailable, createConfigfsTsmProvider, TSM_REPORT_PATH } from "./configfs-tsm.js";
import { createDstackProvider, dstackAvailable, DSTACK_SOCKET_PATH } from "./dstack.js";

export type TeeKind = "auto" | "tdx" | "sev-snp" | "dstack" | "simulated";
export const TEE_KINDS: readonly TeeKind[] = ["auto", "tdx", "sev-snp", "dstack", "simulated"];

export interface SelectTeeOptions {
  readonly tsmPath?: string;
  readonly dstackSocket?: string;
}

export function selectTeeProvider(kind: TeeKind, opts: SelectTeeOptions = {}): TeeProvider {
  const tsmPath = opts.tsmPath ?? TSM_REPORT_PATH;
  const socket = opts.dstackSocket ?? DSTACK_SOCKET_PATH;
  switch (kind) {
    case "tdx":
    case "sev-snp":
      if (!configfsTsmAvailable(tsmPath)) throw new ConfigError("TEE_NOT_FOUND", `--tee ${kind} needs ${tsmPath} (Linux >= 6.7 inside a confidential VM); use --tee simulated for development`);
      return createConfigfsTsmProvider({ basePath: tsmPath });
    case "dstack":
      if (!dstackAvailable(socket)) throw new ConfigError("TEE_NOT_FOUND", `--tee dstack needs the guest agent socket at ${socket}`);
      return createDstackProvider({ socketPath: socket });
    case "simulated":
      return createSimulatorProvider();
    case "auto":
      if (configfsTsmAvailable(tsmPath)) return createConfigfsTsmProvider({ basePath: tsmPath });
      if (dstackAvailable(socket)) return createDstackProvider({ socketPath: socket });
      return createSimulatorProvider();
  }
}
