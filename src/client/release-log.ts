/**
 * The release-log policy as a ReportVerifier wrapper: after the attestation verifies,
 * the node's measurements must be those of a release in the log, with its inclusion
 * proved under a checkpoint consistent with the last one this client saw. A client that
 * names a release log trusts no unpublished code, whatever else its policy says.
 */
import { TransparencyError } from "../transparency/errors.js";
import { ReleaseLog, type ReleaseLogOptions } from "../transparency/release-log.js";
import type { ReleaseMatch } from "../transparency/release.js";
import type { ReportVerifier, VerifiedReport } from "./verifier.js";

export interface ReleaseLoggedReport extends VerifiedReport {
  readonly release?: ReleaseMatch;
  /** Set when the shipped default log was not consulted for simulated evidence the caller accepted. */
  readonly releaseLogSkipped?: "simulated";
}

export interface WithReleaseLogOptions {
  /**
   * Do not consult the log for SIMULATED evidence the caller accepted (allowSimulated):
   * the simulator declares whatever measurements its operator wants, so checking them
   * proves nothing, and Cloister's own log never lists simulator builds. Only for the
   * shipped default: a log the caller named is checked for simulated nodes too.
   */
  readonly skipSimulated?: boolean;
}

export function withReleaseLog(inner: ReportVerifier, log: ReleaseLog | ReleaseLogOptions, o: WithReleaseLogOptions = {}): ReportVerifier {
  const releases = log instanceof ReleaseLog ? log : new ReleaseLog(log);
  return async (report, opts): Promise<ReleaseLoggedReport> => {
    const v = await inner(report, opts);
    if (!v.verified) return v;
    if (o.skipSimulated && v.simulated && opts.allowSimulated) return { ...v, releaseLogSkipped: "simulated" };
    const measurements = v.measurements ?? {};
    let match: ReleaseMatch | null;
    try {
      match = await releases.find(measurements);
    } catch (e) {
      const code = e instanceof TransparencyError ? e.code : "LOG_UNREACHABLE";
      return { ...v, verified: false, errors: [...v.errors, { code, message: `release log ${releases.origin}: ${e instanceof Error ? e.message : String(e)}` }] };
    }
    if (!match) {
      return {
        ...v,
        verified: false,
        errors: [...v.errors, { code: "MEASUREMENT_NOT_RELEASED", message: `no release in ${releases.origin} has this node's measurements: it runs code that was never published` }],
      };
    }
    return { ...v, release: match };
  };
}
