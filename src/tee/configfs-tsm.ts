/**
 * Quotes from the Linux configfs-tsm report interface (Documentation/ABI/testing/
 * configfs-tsm-report, kernel >= 6.7), used for both Intel TDX (provider "tdx_guest")
 * and AMD SEV-SNP (provider "sev_guest"):
 *
 *   mkdir $base/$name; write 64 bytes to inblob; read outblob (and auxblob); rmdir.
 *
 * `generation` counts writes to the entry; reading it before and after lets us detect a
 * concurrent writer (another process sharing the entry) and refuse a mixed-up outblob.
 * The base path is injectable so tests run against a fake tree in a temp dir.
 */
import * as fsp from "node:fs/promises";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { parseCcelLog } from "../attest/eventlog/ccel.js";
import { ccelToEntries } from "../attest/eventlog/from-ccel.js";
import type { QuoteResult, TeeProvider } from "../attest/provider.js";
import type { EventLogEntry } from "../attest/report/format.js";
import { AttestationError } from "../errors.js";
import { parseSnpCertTable } from "./snp-certs.js";

export const TSM_REPORT_PATH = "/sys/kernel/config/tsm/report";
/** The ACPI CCEL table's data: the TDX boot event log that RTMR0-2 replay from. */
export const CCEL_DATA_PATH = "/sys/firmware/acpi/tables/data/CCEL";

export interface ConfigfsTsmOptions {
  readonly basePath?: string;
  readonly ccelPath?: string;
  /** GPU evidence source (NVIDIA CC), if any; none by default. */
  readonly gpuEvidence?: (nonce: Uint8Array) => Promise<string | null>;
  /** File operations; tests pass ones that emulate the kernel's side over a temp dir. */
  readonly fs?: TsmFs;
}

export interface TsmFs {
  mkdir(path: string): Promise<unknown>;
  rmdir(path: string): Promise<unknown>;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array): Promise<unknown>;
}

const nodeFs: TsmFs = {
  mkdir: (p) => fsp.mkdir(p),
  rmdir: (p) => fsp.rmdir(p),
  readFile: (p) => fsp.readFile(p),
  writeFile: (p, d) => fsp.writeFile(p, d),
};

export function configfsTsmAvailable(basePath = TSM_REPORT_PATH): boolean {
  return existsSync(basePath);
}

const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8").trim();

/** configfs-tsm `provider` values (drivers/virt/coco/{tdx-guest,sev-guest}). */
export type TsmProviderName = "tdx_guest" | "sev_guest";

/**
 * Which TSM driver backs this configfs-tsm tree: the `provider` attribute of a fresh
 * report entry (an entry must exist to read it; it is removed again at once).
 */
export async function readTsmProvider(basePath = TSM_REPORT_PATH, fs: TsmFs = nodeFs): Promise<string> {
  const dir = join(basePath, `cloister-probe-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    await fs.mkdir(dir);
  } catch (cause) {
    throw new AttestationError("TEE_UNAVAILABLE", `cannot create a configfs-tsm report entry under ${basePath}`, { cause });
  }
  try {
    return text(await fs.readFile(join(dir, "provider")));
  } finally {
    await fs.rmdir(dir).catch(() => undefined);
  }
}

export function createConfigfsTsmProvider(opts: ConfigfsTsmOptions = {}): TeeProvider {
  const base = opts.basePath ?? TSM_REPORT_PATH;
  const ccelPath = opts.ccelPath ?? CCEL_DATA_PATH;
  const fs = opts.fs ?? nodeFs;
  const generation = async (dir: string): Promise<number> => Number(text(await fs.readFile(join(dir, "generation"))));
  return {
    name: "configfs-tsm",
    simulated: false,
    async getQuote(reportData: Uint8Array): Promise<QuoteResult> {
      if (reportData.length !== 64) throw new AttestationError("QUOTE_REQUEST_INVALID", "report_data must be exactly 64 bytes");
      const dir = join(base, `cloister-${process.pid}-${randomBytes(4).toString("hex")}`);
      try {
        await fs.mkdir(dir);
      } catch (cause) {
        throw new AttestationError("TEE_UNAVAILABLE", `cannot create a configfs-tsm report entry under ${base}`, { cause });
      }
      try {
        const before = await generation(dir);
        await fs.writeFile(join(dir, "inblob"), reportData);
        const quote = new Uint8Array(await fs.readFile(join(dir, "outblob")));
        const provider = text(await fs.readFile(join(dir, "provider")));
        const after = await generation(dir);
        if (after !== before + 1) {
          throw new AttestationError("TEE_CONCURRENT_WRITE", `configfs-tsm entry changed under us (generation ${before} -> ${after}); retry`);
        }
        if (provider === "tdx_guest") {
          return { tee: "tdx", simulated: false, quote, certChain: null, eventLog: await readCcel(ccelPath) };
        }
        if (provider === "sev_guest") {
          const aux = await fs.readFile(join(dir, "auxblob")).catch(() => null);
          return { tee: "sev-snp", simulated: false, quote, certChain: aux && aux.length ? parseSnpCertTable(new Uint8Array(aux)) : null, eventLog: [] };
        }
        throw new AttestationError("UNSUPPORTED_EVIDENCE", `configfs-tsm provider "${provider}" is not supported (expected tdx_guest or sev_guest)`);
      } finally {
        await fs.rmdir(dir).catch(() => undefined);
      }
    },
    getGpuEvidence: opts.gpuEvidence ?? (async () => null),
  };
}

async function readCcel(path: string): Promise<EventLogEntry[]> {
  try {
    return ccelToEntries(parseCcelLog(new Uint8Array(await fsp.readFile(path))));
  } catch {
    // No CCEL exposed: the verifier then cannot replay RTMR0-2, which it reports itself.
    return [];
  }
}
