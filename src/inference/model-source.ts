/**
 * Which GGUF file the embedded backend loads: `--model` flag, then CLOISTER_MODEL, then
 * a small default instruct model. A value is a local path, or an `hf:OWNER/REPO/FILE`
 * (or https) URI that node-llama-cpp downloads once into `<dataDir>/models` and reuses.
 *
 * Default: Qwen2.5-0.5B-Instruct Q4_K_M (Apache-2.0, ~400 MB, ~45-60 tok/s on 2 CPU
 * cores per FACTS.md): the smallest widely used instruct model that follows a chat
 * template well enough for a first run on a laptop.
 */
import { open, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { resolveModelFile } from "node-llama-cpp";
import { InferenceError } from "../errors.js";
import { InferenceCode } from "./backend.js";

export const DEFAULT_MODEL = "hf:bartowski/Qwen2.5-0.5B-Instruct-GGUF/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf";

const HOW_TO_FIX = "pass --model PATH (a local .gguf file) or set CLOISTER_MODEL=PATH";

export interface DownloadProgress {
  readonly downloadedBytes: number;
  readonly totalBytes: number;
}

export interface Downloader {
  (uri: string, options: { directory: string; onProgress?: (p: DownloadProgress) => void; progressBar: boolean; signal?: AbortSignal }): Promise<string>;
}

export interface ResolveModelOptions {
  /** `--model` */
  readonly flag?: string;
  /** CLOISTER_MODEL */
  readonly env?: string;
  /** Downloads go to `<dataDir>/models`. */
  readonly dataDir: string;
  readonly onProgress?: (p: DownloadProgress) => void;
  /** node-llama-cpp's terminal progress bar (default: when stderr is a TTY and no onProgress). */
  readonly progressBar?: boolean;
  /** Hugging Face mirror (default: node-llama-cpp's, which honours HF_ENDPOINT). */
  readonly hfEndpoint?: string;
  /** Replaces the real downloader (tests, air-gapped installs). */
  readonly download?: Downloader;
  /** Used for the reachability probe before a download (default: global fetch). */
  readonly fetch?: typeof fetch;
  /** How long the probe waits for the download host (default 10 s). */
  readonly probeTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface ResolvedModel {
  readonly path: string;
  /** What the user asked for (a path or a URI). */
  readonly spec: string;
  readonly source: "flag" | "env" | "default";
}

export async function resolveModel(options: ResolveModelOptions): Promise<ResolvedModel> {
  const flag = options.flag?.trim();
  const env = options.env?.trim();
  const [spec, source] = flag ? [flag, "flag" as const] : env ? [env, "env" as const] : [DEFAULT_MODEL, "default" as const];
  const path = isRemote(spec) ? await download(spec, options) : resolve(spec);
  await checkGguf(path, spec);
  return { path, spec, source };
}

/**
 * What the public attestation report may say about where the model came from: a remote
 * URI (hf:…, or an https URL without credentials or query), or just "local file" — a
 * local path tells every caller the operator's directory layout and user name (issue 7
 * item 10). The model is identified by its id and sha256 beside this.
 */
export function publicModelSource(spec: string): string {
  if (/^hf:/i.test(spec)) return spec;
  if (/^https?:\/\//i.test(spec)) {
    try {
      const u = new URL(spec);
      return `${u.protocol}//${u.host}${u.pathname}`;
    } catch {
      return "remote";
    }
  }
  return "local file";
}

function isRemote(spec: string): boolean {
  return /^(hf:|https?:\/\/)/i.test(spec);
}

async function download(uri: string, options: ResolveModelOptions): Promise<string> {
  const directory = join(options.dataDir, "models");
  const progressBar = options.progressBar ?? (process.stderr.isTTY === true && !options.onProgress);
  const fetcher = options.download ?? nodeLlamaCppDownloader(options);
  try {
    return await fetcher(uri, {
      directory,
      progressBar,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (cause) {
    // No stack trace for the user: say what failed and what to do instead.
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new InferenceError(InferenceCode.MODEL_UNAVAILABLE, `could not download the model ${uri} (${firstLine(why)}); ${HOW_TO_FIX}`, {
      cause,
      details: { uri, directory },
    });
  }
}

function nodeLlamaCppDownloader(options: ResolveModelOptions): Downloader {
  return async (uri, { directory, onProgress, progressBar, signal }) => {
    // Already downloaded? node-llama-cpp knows its own file naming; no network needed.
    const cached = await resolveModelFile(uri, { directory, download: false, cli: false }).catch(() => null);
    if (cached) return cached;
    // node-llama-cpp's downloader retries an unreachable host for minutes and ignores
    // the abort signal meanwhile; a quick probe fails fast when there is no network.
    await probe(uri, options);
    return resolveModelFile(uri, {
      directory,
      cli: progressBar,
      ...(onProgress ? { onProgress: (s: { totalSize: number; downloadedSize: number }) => onProgress({ downloadedBytes: s.downloadedSize, totalBytes: s.totalSize }) } : {}),
      ...(options.hfEndpoint ? { endpoints: { huggingFace: options.hfEndpoint } } : {}),
      ...(signal ? { signal } : {}),
    });
  };
}

/** Any HTTP answer means the host is reachable; only network errors and timeouts fail. */
async function probe(uri: string, options: ResolveModelOptions): Promise<void> {
  const url = /^https?:\/\//i.test(uri) ? uri : (options.hfEndpoint ?? process.env["HF_ENDPOINT"] ?? "https://huggingface.co/");
  const signal = AbortSignal.timeout(options.probeTimeoutMs ?? 10_000);
  const res = await (options.fetch ?? fetch)(url, { method: "HEAD", signal, redirect: "manual" }).catch((cause: unknown) => {
    const code = cause instanceof Error && cause.cause instanceof Error ? ` ${cause.cause.message}` : "";
    throw new Error(`${new URL(url).host} is unreachable:${code || " no network"}`, { cause });
  });
  await res.body?.cancel();
}

/** A GGUF file starts with the ASCII magic "GGUF" (ggml docs/gguf.md); check before llama.cpp does. */
async function checkGguf(path: string, spec: string): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) throw new InferenceError(InferenceCode.MODEL_UNAVAILABLE, `no model file at ${path} (from "${spec}"); ${HOW_TO_FIX}`);
  const fh = await open(path, "r");
  try {
    const magic = Buffer.alloc(4);
    await fh.read(magic, 0, 4, 0);
    if (magic.toString("latin1") !== "GGUF") {
      throw new InferenceError(InferenceCode.MODEL_UNAVAILABLE, `${path} is not a GGUF model file; ${HOW_TO_FIX}`);
    }
  } finally {
    await fh.close();
  }
}

function firstLine(s: string): string {
  return s.split("\n")[0]?.slice(0, 200) ?? "";
}
