/**
 * The node's one config loader: command-line flags, then CLOISTER_* environment
 * variables, then defaults. Parsed once at start; everything downstream receives the
 * typed NodeConfig and never reads flags or env itself.
 */
import { homedir } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../errors.js";
import type { LogLevel } from "../log/logger.js";
import { parseGpuEvidenceSetting, type GpuEvidenceSetting } from "../tee/gpu-evidence-config.js";
import { TEE_KINDS, type TeeKind } from "../tee/select.js";
import { MARKET_UP_OPTIONS, MARKET_UP_USAGE, parseMarketFlags, type MarketNodeFlags } from "../market/node-config.js";

export interface NodeConfig {
  /** Raw --model / CLOISTER_MODEL value (path or hf: URI); resolved by the inference layer. */
  readonly modelFlag: string | undefined;
  readonly modelEnv: string | undefined;
  readonly upstream: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly tee: TeeKind;
  /** NVIDIA GPU evidence for hardware TEEs: auto (driver says CC on), none, or a collector command. */
  readonly gpuEvidence: GpuEvidenceSetting;
  readonly dataDir: string;
  /** postgres:// URL for keys, usage and signatures; undefined: SQLite in dataDir. */
  readonly store: string | undefined;
  readonly auth: boolean;
  readonly threads: number | undefined;
  readonly parallel: number | undefined;
  readonly requireE2ee: boolean;
  readonly maxBodyBytes: number;
  readonly maxConcurrent: number;
  readonly requestTimeoutMs: number;
  readonly drainMs: number;
  readonly logLevel: LogLevel;
  /** Browser origins allowed by CORS (--cors-origin, repeatable); none by default. */
  readonly corsOrigins: readonly string[];
  /** CLOISTER_NODE_ID: this node's label in a shared store; default: kept in the data dir. */
  readonly nodeId: string | undefined;
  /** Key brokers for a sealed --model (docs/notes/sealed-models.md); undefined: a plain model. */
  readonly kms: readonly string[] | undefined;
  /** Policy file the brokers' own attestation must satisfy. */
  readonly kmsPolicy: string | undefined;
  /** Accept brokers on the simulator (development only). */
  readonly kmsAllowSimulated: boolean;
  /** The market (--register ...; src/market/node-config.ts); null: an unlisted, unpaid node. */
  readonly market: MarketNodeFlags | null;
}

export const UP_USAGE = `usage: cloister up [options]

  --model PATH|hf:REPO/FILE  GGUF model to serve (env CLOISTER_MODEL; default: a small instruct model, downloaded once)
  --upstream URL             proxy an OpenAI-compatible server in the same TEE instead (env CLOISTER_UPSTREAM)
  --host H                   listen address (env CLOISTER_HOST; default 127.0.0.1)
  --port P                   listen port (env CLOISTER_PORT; default 8080; 0 picks a free one)
  --tee KIND                 auto|tdx|sev-snp|dstack|simulated (env CLOISTER_TEE; default auto)
  --gpu-evidence SRC         NVIDIA GPU evidence: auto|none|dstack|"CMD {nonce}" (env CLOISTER_GPU_EVIDENCE; default auto)
  --data-dir DIR             keys, usage and signatures (env CLOISTER_DATA_DIR; default ~/.cloister)
  --store URL                postgres://… for keys, usage and signatures shared by several machines
                             (env CLOISTER_STORE; default: SQLite in the data dir)
  --no-auth                  serve without API keys (env CLOISTER_NO_AUTH=1) — development only
  --threads N                CPU threads for the embedded model (env CLOISTER_THREADS; default: physical
                             cores, leaving one CPU for Node — 1 on a 2-core machine)
  --parallel N               sequences generating at once (env CLOISTER_PARALLEL)
  --require-e2ee             refuse completion requests that are not end-to-end encrypted
  --max-concurrent N         completions at once before 429 (default 64)
  --max-body-bytes N         largest request body before 413 (default 4194304)
  --request-timeout-ms N     whole-request limit, streams included (default 600000)
  --log-level L              debug|info|warn|error (default info)
  --cors-origin ORIGIN       let browser pages from ORIGIN call the API (repeatable; env
                             CLOISTER_CORS_ORIGINS, comma-separated; default: none)
  env CLOISTER_NODE_ID       this node's id in a shared store (default: made once, kept in <data-dir>/node-id)
  --kms URL[,URL...]         key brokers for a sealed --model FILE.sealed (env CLOISTER_KMS); weights decrypt into memory only
  --kms-policy FILE          policy the brokers' attestation must satisfy (env CLOISTER_KMS_POLICY)
  --kms-allow-simulated      accept simulated brokers — development only${MARKET_UP_USAGE}`;

type Env = Readonly<Record<string, string | undefined>>;

function int(name: string, v: string | undefined, min: number, fallback: number): number;
function int(name: string, v: string | undefined, min: number, fallback: undefined): number | undefined;
function int(name: string, v: string | undefined, min: number, fallback: number | undefined): number | undefined {
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ConfigError("INVALID_OPTION", `${name} must be an integer >= ${min} (got "${v}")`);
  return n;
}

const truthy = (v: string | undefined): boolean => v !== undefined && /^(1|true|yes|on)$/i.test(v);

/** The store for any command: --store, CLOISTER_STORE, or undefined (SQLite in the data dir). */
export function resolveStoreUrl(flag: string | undefined, env: Env): string | undefined {
  const v = flag ?? env["CLOISTER_STORE"];
  if (v === undefined || v === "") return undefined;
  if (!/^postgres(ql)?:\/\//i.test(v)) throw new ConfigError("INVALID_OPTION", "--store must be a postgres:// URL (leave it out for SQLite in the data dir)");
  return v;
}

/** The data dir for any command: --data-dir, CLOISTER_DATA_DIR, ~/.cloister. */
export function resolveDataDir(flag: string | undefined, env: Env, cwd: string): string {
  const v = flag ?? env["CLOISTER_DATA_DIR"];
  if (v) return resolve(cwd, v);
  return resolve(env["HOME"] || homedir(), ".cloister");
}

export function loadNodeConfig(args: readonly string[], env: Env, cwd: string): NodeConfig {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        model: { type: "string" },
        upstream: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        tee: { type: "string" },
        "gpu-evidence": { type: "string" },
        "data-dir": { type: "string" },
        store: { type: "string" },
        "no-auth": { type: "boolean" },
        threads: { type: "string" },
        parallel: { type: "string" },
        "require-e2ee": { type: "boolean" },
        "max-concurrent": { type: "string" },
        "max-body-bytes": { type: "string" },
        "request-timeout-ms": { type: "string" },
        "log-level": { type: "string" },
        "cors-origin": { type: "string", multiple: true },
        kms: { type: "string" },
        "kms-policy": { type: "string" },
        "kms-allow-simulated": { type: "boolean" },
        ...MARKET_UP_OPTIONS,
      },
    }));
  } catch (cause) {
    throw new ConfigError("USAGE", cause instanceof Error ? cause.message : String(cause), { cause });
  }
  const s = (k: string): string | undefined => {
    const v = values[k];
    return typeof v === "string" ? v : undefined;
  };
  const tee = (s("tee") ?? env["CLOISTER_TEE"] ?? "auto") as TeeKind;
  if (!TEE_KINDS.includes(tee)) throw new ConfigError("INVALID_OPTION", `--tee must be one of ${TEE_KINDS.join(", ")} (got "${tee}")`);
  const logLevel = (s("log-level") ?? env["CLOISTER_LOG_LEVEL"] ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(logLevel)) throw new ConfigError("INVALID_OPTION", `--log-level must be debug, info, warn or error`);
  const upstream = s("upstream") ?? env["CLOISTER_UPSTREAM"];
  if (upstream !== undefined && !/^https?:\/\//.test(upstream)) throw new ConfigError("INVALID_OPTION", `--upstream must be an http(s) URL (got "${upstream}")`);
  const modelFlag = s("model");
  const kmsRaw = s("kms") ?? env["CLOISTER_KMS"];
  const kms = kmsRaw ? kmsRaw.split(",").map((u) => u.trim()).filter(Boolean) : undefined;
  if (kms && (kms.length === 0 || kms.some((u) => !/^https?:\/\//.test(u)))) throw new ConfigError("INVALID_OPTION", "--kms must be a comma-separated list of http(s) broker URLs");
  if (kms && (!modelFlag || !modelFlag.endsWith(".sealed"))) throw new ConfigError("INVALID_OPTION", "--kms needs --model FILE.sealed");
  if (!kms && modelFlag?.endsWith(".sealed")) throw new ConfigError("INVALID_OPTION", "a sealed model needs its key brokers: pass --kms URL[,URL...]");
  if (upstream && modelFlag) throw new ConfigError("INVALID_OPTION", "pass either --model or --upstream, not both");
  return {
    modelFlag,
    modelEnv: env["CLOISTER_MODEL"],
    upstream,
    host: s("host") ?? env["CLOISTER_HOST"] ?? "127.0.0.1",
    port: int("--port", s("port") ?? env["CLOISTER_PORT"], 0, 8080),
    tee,
    gpuEvidence: parseGpuEvidenceSetting(s("gpu-evidence") ?? env["CLOISTER_GPU_EVIDENCE"]),
    dataDir: resolveDataDir(s("data-dir"), env, cwd),
    store: resolveStoreUrl(s("store"), env),
    auth: !(values["no-auth"] === true || truthy(env["CLOISTER_NO_AUTH"])),
    threads: int("--threads", s("threads") ?? env["CLOISTER_THREADS"], 1, undefined),
    parallel: int("--parallel", s("parallel") ?? env["CLOISTER_PARALLEL"], 1, undefined),
    requireE2ee: values["require-e2ee"] === true || truthy(env["CLOISTER_REQUIRE_E2EE"]),
    maxConcurrent: int("--max-concurrent", s("max-concurrent") ?? env["CLOISTER_MAX_CONCURRENT"], 1, 64),
    maxBodyBytes: int("--max-body-bytes", s("max-body-bytes") ?? env["CLOISTER_MAX_BODY_BYTES"], 1024, 4 * 1024 * 1024),
    requestTimeoutMs: int("--request-timeout-ms", s("request-timeout-ms") ?? env["CLOISTER_REQUEST_TIMEOUT_MS"], 1000, 600_000),
    drainMs: int("CLOISTER_DRAIN_MS", env["CLOISTER_DRAIN_MS"], 0, 10_000),
    logLevel,
    corsOrigins: corsOrigins(values["cors-origin"], env["CLOISTER_CORS_ORIGINS"]),
    nodeId: env["CLOISTER_NODE_ID"] || undefined,
    kms,
    kmsPolicy: s("kms-policy") ?? env["CLOISTER_KMS_POLICY"],
    kmsAllowSimulated: values["kms-allow-simulated"] === true || truthy(env["CLOISTER_KMS_ALLOW_SIMULATED"]),
    market: parseMarketFlags(values, env),
  };
}

/** Origins as browsers send them (scheme://host[:port], no path); "*" is refused: name them. */
function corsOrigins(flag: unknown, envValue: string | undefined): readonly string[] {
  const list = Array.isArray(flag) ? flag.filter((v): v is string => typeof v === "string") : (envValue ?? "").split(",").map((v) => v.trim()).filter(Boolean);
  for (const o of list) {
    if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new ConfigError("INVALID_OPTION", `--cors-origin must be an origin like https://app.example (got "${o}")`);
  }
  return list;
}
