/**
 * `--release-log URL --release-log-key KEY` for `cloister chat` and `cloister verify`
 * (env CLOISTER_RELEASE_LOG / CLOISTER_RELEASE_LOG_KEY). The last checkpoint the CLI
 * accepted is kept per log in <data-dir>/release-logs/, so a fork between two runs is
 * caught. Both or neither: half a configuration is a usage error, never a fallback.
 */
import { ConfigError } from "../errors.js";
import { parseVerifierKey } from "../transparency/note.js";
import type { ReleaseLogOptions } from "../transparency/release-log.js";
import type { CheckpointState } from "../transparency/log-reader.js";
import { checkpointFileFor, createFileCheckpointState } from "./checkpoint-file.js";

export const RELEASE_LOG_OPTIONS = {
  "release-log": { type: "string" },
  "release-log-key": { type: "string" },
} as const;

export const RELEASE_LOG_USAGE = `  --release-log URL    trust only code published in this release log (default: $CLOISTER_RELEASE_LOG,
                       else Cloister's own log; a --policy that pins measurements replaces it)
  --release-log-key K  the log's note verifier key "<origin>+<keyid>+<base64>" (env CLOISTER_RELEASE_LOG_KEY)`;

/** The named log (flags, then env), or null when none is named; throws ConfigError on half of one. */
export function namedReleaseLog(values: { "release-log"?: string | undefined; "release-log-key"?: string | undefined }, env: NodeJS.ProcessEnv, dataDir: string): ReleaseLogOptions | null {
  const fromFlags = values["release-log"] !== undefined || values["release-log-key"] !== undefined;
  const url = fromFlags ? values["release-log"] : env["CLOISTER_RELEASE_LOG"];
  const key = fromFlags ? values["release-log-key"] : env["CLOISTER_RELEASE_LOG_KEY"];
  if (!url && !key) return null;
  if (!url || !key) throw new ConfigError("INVALID_OPTIONS", fromFlags ? "--release-log and --release-log-key go together" : "set both CLOISTER_RELEASE_LOG and CLOISTER_RELEASE_LOG_KEY, or neither");
  if (!/^https?:\/\//i.test(url)) throw new ConfigError("INVALID_OPTIONS", `the release log ${url} is not an http(s) URL`);
  let origin: string;
  try {
    origin = parseVerifierKey(key).name;
  } catch (cause) {
    throw new ConfigError("INVALID_OPTIONS", "the release log key is not a note verifier key", { cause });
  }
  return { url, key, state: checkpointStateFor(dataDir, origin) };
}

export function checkpointStateFor(dataDir: string, origin: string): CheckpointState {
  return createFileCheckpointState(checkpointFileFor(dataDir, origin));
}
