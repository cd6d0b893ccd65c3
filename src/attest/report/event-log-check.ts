/**
 * The event-log half of the TDX checks (replay into RTMR0-3, app identity, compose hash):
 * pure JS (noble hashes), so both src/attest and the browser console (console/) use it.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { Measurement } from "../../types.js";
import { toHex, utf8 } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { extractAppIdentity, repeatedIdentityEvents, type AppIdentity } from "../eventlog/app-identity.js";
import { mismatchedRuntimeEvents, parseDstackEventLog } from "../eventlog/dstack.js";
import { replayRtmrs } from "../eventlog/replay.js";
import type { ReportState } from "./result.js";

const ZERO48 = "00".repeat(48);

function label(prefix: string | undefined, name: string): string {
  return prefix ? `${prefix}: ${name}` : name;
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
