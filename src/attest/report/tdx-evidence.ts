/**
 * The TDX half of every report kind (Cloister, NEAR, dstack): verify the quote (offline
 * signatures, or full DCAP with collateral), recognise the simulated root, replay the
 * event log into the RTMRs and read the app identity out of RTMR3.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { AttestationError } from "../../errors.js";
import type { Measurement } from "../../types.js";
import { toHex, utf8 } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { extractAppIdentity, repeatedIdentityEvents, type AppIdentity } from "../eventlog/app-identity.js";
import { mismatchedRuntimeEvents, parseDstackEventLog } from "../eventlog/dstack.js";
import { replayRtmrs } from "../eventlog/replay.js";
import { INTEL_SGX_ROOT_CA_PEM, verifyDcapQuote, verifyQuoteSignatures } from "../intel/index.js";
import { SIMULATED_QUOTE_ROOTS_PEM } from "../simulator/roots.js";
import type { Verification } from "../types.js";
import type { ReportVerifyOptions } from "./options.js";
import type { ReportState } from "./result.js";

const ZERO48 = "00".repeat(48);

/** Verifies the quote and records its checks, registers and report_data into the state. */
export async function checkTdxQuote(s: ReportState, quote: Uint8Array, opts: ReportVerifyOptions, prefix?: string): Promise<Verification> {
  const now = opts.now ?? new Date();
  // Both roots: a quote that chains to the simulated one verifies and is marked simulated.
  let v = verifyQuoteSignatures(quote, { trustedRootsPem: [INTEL_SGX_ROOT_CA_PEM, ...SIMULATED_QUOTE_ROOTS_PEM], now });
  if (v.simulated) {
    // Same path as hardware: simulated collateral (signed under the simulated root) gives a
    // simulated TCB status; without it the TCB status is unchecked, like a real quote's.
    s.simulated = true;
    s.tee = "simulated";
    const collateral = opts.collateral;
    if (collateral && v.verified) v = verifyDcapQuote(quote, { collateral, now, trustedRootsPem: SIMULATED_QUOTE_ROOTS_PEM });
  } else {
    let collateral = opts.collateral;
    if (!collateral && opts.fetchCollateral && v.verified) {
      try {
        collateral = await opts.fetchCollateral(quote);
      } catch (e) {
        s.list.fail(label(prefix, "collateral fetch"), e instanceof AttestationError ? e.code : AttestCode.COLLATERAL_FETCH_FAILED, e instanceof Error ? e.message : String(e));
      }
    }
    if (collateral) v = verifyDcapQuote(quote, { collateral, now });
    else {
      // Say what the user can do about it, in the caller's terms.
      v = { ...v, checks: v.checks.map((c) => (c.name === "TCB status" && c.skipped ? { ...c, detail: "not checked: needs Intel collateral (TCB Info, QE Identity, CRLs); pass --collateral FILE" } : c)) };
    }
    if (s.tee !== "simulated") s.tee = v.tee;
  }
  s.list.merge(v, prefix);
  if (v.simulated && !opts.allowSimulated) {
    s.list.fail(label(prefix, "not simulated"), AttestCode.SIMULATED_NOT_ALLOWED, "the quote is signed by the Cloister SIMULATED root: it proves nothing (pass --allow-simulated to accept it)");
  } else if (v.simulated) {
    s.list.notChecked(label(prefix, "hardware root"), "SIMULATED evidence accepted (--allow-simulated): it proves nothing about hardware");
  }
  if (!prefix) {
    s.tcbStatus = v.tcbStatus;
    s.advisories = [...v.advisories];
    s.reportData = v.reportData;
  }
  Object.assign(s.measurements, prefixed(v.measurements, prefix));
  return v;
}

function label(prefix: string | undefined, name: string): string {
  return prefix ? `${prefix}: ${name}` : name;
}

function prefixed(m: Readonly<Record<string, Measurement>>, prefix: string | undefined): Record<string, Measurement> {
  if (!prefix) return { ...m };
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [`${prefix}.${k}`, v]));
}

/**
 * Replays the event log into RTMR0-3 and compares with the quote. A register the log has
 * no events for is skipped (boot logs are often left out) unless it is RTMR3, which must
 * replay: the app identity is read from it. Returns the app identity when RTMR3 replays.
 */
export function checkEventLog(s: ReportState, eventLog: unknown, quoteRtmrs: readonly string[], prefix?: string): AppIdentity | null {
  const name = (n: string): string => label(prefix, n);
  let events;
  try {
    events = parseDstackEventLog(eventLog);
  } catch (e) {
    s.list.fail(name("event log"), AttestCode.EVENT_LOG_INVALID, e instanceof Error ? e.message : "unreadable event log");
    return null;
  }
  const bad = mismatchedRuntimeEvents(events);
  if (bad.length > 0) s.list.fail(name("event log digests"), AttestCode.EVENT_LOG_INVALID, `runtime events whose digest does not match their content: ${bad.join(", ")}`);
  else s.list.pass(name("event log digests"), `${events.length} events`);
  const replayed = replayRtmrs(events);
  let rtmr3ok = false;
  for (let i = 0; i < 4; i++) {
    const inLog = events.some((e) => e.imr === i);
    const quoted = quoteRtmrs[i] ?? "";
    if (!inLog && i < 3 && quoted !== ZERO48) {
      s.list.notChecked(name(`RTMR${i} replay`), "the event log has no events for this register");
    } else if (replayed[i] === quoted) {
      s.list.pass(name(`RTMR${i} replay`), inLog ? "event log replays to the quote" : "empty, as the quote says");
      if (i === 3) rtmr3ok = true;
    } else {
      s.list.fail(name(`RTMR${i} replay`), AttestCode.RTMR_MISMATCH, `the event log replays RTMR${i} to ${replayed[i]}, the quote says ${quoted}`);
    }
  }
  if (!rtmr3ok || bad.length > 0) return null;
  const id = extractAppIdentity(events);
  const repeated = repeatedIdentityEvents(events);
  if (repeated.length > 0) {
    s.list.fail(name("app identity events"), AttestCode.EVENT_LOG_INVALID, `identity events recorded more than once in RTMR3 (a later one could override the measured one): ${repeated.join(", ")}`);
  } else {
    s.list.pass(name("app identity events"), "each identity event recorded once");
  }
  if (id.composeHash && !prefix) s.measurements["compose_hash"] = id.composeHash as Measurement;
  return id;
}

/** compose-hash in RTMR3 must be SHA-256 of the raw app-compose text the report shows. */
export function checkComposeHash(s: ReportState, id: AppIdentity | null, appCompose: string | null | undefined, declared: string | null | undefined, prefix?: string): void {
  const name = label(prefix, "compose hash");
  if (!id?.composeHash) {
    if (appCompose != null || declared != null) s.list.notChecked(name, "no compose-hash event in a replayed RTMR3");
    return;
  }
  if (appCompose != null) {
    const h = toHex(sha256(utf8.encode(appCompose)));
    if (h !== id.composeHash) {
      s.list.fail(name, AttestCode.COMPOSE_HASH_MISMATCH, `SHA-256 of app_compose is ${h}, RTMR3 recorded ${id.composeHash}`);
      return;
    }
  }
  if (declared != null && declared.toLowerCase() !== id.composeHash) {
    s.list.fail(name, AttestCode.COMPOSE_HASH_MISMATCH, `the report declares compose_hash ${declared}, RTMR3 recorded ${id.composeHash}`);
    return;
  }
  s.list.pass(name, appCompose != null ? "SHA-256 of app_compose equals RTMR3's compose-hash" : `RTMR3 records ${id.composeHash}`);
}
