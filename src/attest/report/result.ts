import type { Hex, Measurement } from "../../types.js";
import type { AppIdentity } from "../eventlog/app-identity.js";
import type { Check, CheckList, TeeKind, Verification } from "../types.js";

/** A verified (or not) attestation report: the Verification plus what it vouches for. */
export interface ReportVerification extends Verification {
  /** 0x address (ecdsa) or hex public key (ed25519) that signs responses; null when absent. */
  readonly signingAddress: string | null;
  readonly signingAlgo: string | null;
  readonly signingPublicKey: string | null;
  readonly e2ePublicKey: string | null;
  /** From the RTMR3 event log, only when it replayed to the quote. */
  readonly appIdentity: AppIdentity | null;
  /** Plain statements of what could not be checked here (also present as skipped checks). */
  readonly unchecked: readonly string[];
}

/** The mutable state a report verifier fills in as it goes. */
export interface ReportState {
  readonly list: CheckList;
  tee: TeeKind;
  simulated: boolean;
  tcbStatus: string | null;
  advisories: string[];
  measurements: Record<string, Measurement>;
  reportData: Hex | null;
  appIdentity: AppIdentity | null;
  signingAddress: string | null;
  signingAlgo: string | null;
  signingPublicKey: string | null;
  e2ePublicKey: string | null;
}

export function finish(s: ReportState): ReportVerification {
  const checks: readonly Check[] = s.list.checks;
  return {
    verified: s.list.ok,
    tee: s.tee,
    simulated: s.simulated,
    tcbStatus: s.tcbStatus,
    advisories: s.advisories,
    measurements: s.measurements,
    reportData: s.reportData,
    checks,
    errors: s.list.errors,
    signingAddress: s.signingAddress,
    signingAlgo: s.signingAlgo,
    signingPublicKey: s.signingPublicKey,
    e2ePublicKey: s.e2ePublicKey,
    appIdentity: s.appIdentity,
    unchecked: checks.filter((c) => c.skipped).map((c) => `${c.name}: ${c.detail ?? "not checked"}`),
  };
}
