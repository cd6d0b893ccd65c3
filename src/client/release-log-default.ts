/**
 * Which release log a client trusts when the caller names none: the client's default
 * policy is "a measurement published in the release log" (docs/notes/transparency.md).
 * Resolution, first match wins:
 *   1. the `releaseLog` option (the CLI's --release-log URL --release-log-key KEY);
 *   2. $CLOISTER_RELEASE_LOG and $CLOISTER_RELEASE_LOG_KEY, both set (Node only);
 *   3. the log shipped here, Cloister's own: its origin and Ed25519 note key are pinned in
 *      this file (the package's configuration), so a client cannot be pointed elsewhere
 *      by whoever serves the node.
 * A policy that pins measurements or a Sigstore release is the other trust source: with
 * one and no log named, no log is consulted. Nothing here turns the check off.
 */
import { ClientError } from "../errors.js";
import type { CheckpointState } from "../transparency/log-reader.js";
import type { ReleaseLogOptions } from "../transparency/release-log.js";
import { ClientCode } from "./codes.js";

/**
 * Cloister's release log. The key below is pinned; its private half is held offline by
 * the release process (none is in this repository), so nothing but that process can
 * publish a release the default accepts. Until releases are published there, the default
 * refuses every real-hardware node (fail closed): name a log, or pin measurements.
 */
export const DEFAULT_RELEASE_LOG = {
  url: "https://log.cloister.dev/releases/",
  key: "log.cloister.dev/releases+9b2afc85+AQJvyvnNVdaJObCVJ5eRLhkxhx8UPzpxr/tE0qrnGW7q",
} as const;

export type ReleaseLogSource = "option" | "env" | "default";

export interface ResolvedReleaseLog {
  readonly log: ReleaseLogOptions;
  readonly source: ReleaseLogSource;
}

/** The environment, when there is one (Node); a browser has none and uses option or default. */
function env(): Readonly<Record<string, string | undefined>> {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env ?? {};
}

/**
 * The release log to enforce, or null when the caller's policy pins measurements (its own
 * trust source) and no log was named. `environment` is injectable for tests.
 */
export function resolveReleaseLog(o: { releaseLog?: ReleaseLogOptions; policyPins: boolean; fetch?: typeof fetch; state?: CheckpointState }, environment = env()): ResolvedReleaseLog | null {
  if (o.releaseLog) return { log: o.releaseLog, source: "option" };
  const url = environment["CLOISTER_RELEASE_LOG"];
  const key = environment["CLOISTER_RELEASE_LOG_KEY"];
  const withFetch = { ...(o.fetch ? { fetch: o.fetch } : {}), ...(o.state ? { state: o.state } : {}) };
  if (url && key) return { log: { url, key, ...withFetch }, source: "env" };
  // Half a configuration is a mistake, never a reason to fall back to another log.
  if (url || key) throw new ClientError(ClientCode.INVALID_OPTIONS, "set both CLOISTER_RELEASE_LOG and CLOISTER_RELEASE_LOG_KEY, or neither");
  if (o.policyPins) return null;
  return { log: { ...DEFAULT_RELEASE_LOG, ...withFetch }, source: "default" };
}
