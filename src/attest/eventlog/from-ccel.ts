import { toHex } from "../../util/bytes.js";
import type { EventLogEntry } from "../report/format.js";
import { EV_NO_ACTION, type CcelLog } from "./ccel.js";

/**
 * The CCEL log in dstack's JSON shape, keeping only events that extend an RTMR (not
 * EV_NO_ACTION, not MRTD), so one replay and one report format serve both sources.
 */
export function ccelToEntries(log: CcelLog): EventLogEntry[] {
  const out: EventLogEntry[] = [];
  for (const e of log.events) {
    if (e.eventType === EV_NO_ACTION || e.imr < 0 || e.digest === null) continue;
    out.push({ imr: e.imr, event_type: e.eventType, digest: toHex(e.digest), event: "", event_payload: toHex(e.data) });
  }
  return out;
}
