/**
 * dstack's JSON event log: [{imr, event_type, digest, event, event_payload}], as served by
 * the guest agent (GetQuote), NEAR AI Cloud reports and Cloister reports. Boot events
 * (imr 0..2) carry the firmware's digests; runtime events (imr 3, event_type 0x08000001)
 * are dstack's own, and their digest is recomputable from the name and payload:
 *   SHA-384(event_type as u32 LE || ":" || event || ":" || payload)
 * (Dstack-TEE/dstack cc-eventlog runtime_events.rs, RuntimeEvent::digest; checked
 * against the vectors in ../shared/vectors/dstack and near-ai).
 */
import { sha384 } from "@noble/hashes/sha2.js";
import { z } from "zod";
import { AttestationError } from "../../errors.js";
import type { Hex } from "../../types.js";
import { concatBytes, fromHex, toHex, utf8 } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import type { EventLogEntry } from "../report/format.js";

/** dstack's event type for runtime (RTMR3) events. */
export const DSTACK_RUNTIME_EVENT_TYPE = 0x08000001;

const hexString = z.string().regex(/^(0x)?([0-9a-fA-F]{2})*$/, "hex");

export const eventLogEntrySchema = z.object({
  imr: z.number().int().min(0).max(3),
  event_type: z.number().int().min(0).max(0xffffffff),
  digest: hexString,
  event: z.string().default(""),
  event_payload: hexString.default(""),
});

const eventLogSchema = z.array(eventLogEntrySchema).max(100_000);

/** Accepts the array or its JSON string (NEAR's gateway and the guest agent send a string). */
export function parseDstackEventLog(input: unknown): EventLogEntry[] {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input) as unknown;
    } catch (cause) {
      throw new AttestationError(AttestCode.EVENT_LOG_INVALID, "event log is not JSON", { cause });
    }
  }
  const parsed = eventLogSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new AttestationError(AttestCode.EVENT_LOG_INVALID, `event log: ${first ? `${first.path.join(".")}: ${first.message}` : "invalid"}`);
  }
  return parsed.data.map((e, i) => {
    const payload = e.event_payload.toLowerCase().replace(/^0x/, "");
    let digest = e.digest.toLowerCase().replace(/^0x/, "");
    // dstack's compact GetQuote form leaves runtime digests out ("" ): they follow from
    // the name and payload, so compute them; a boot event without a digest is unusable.
    if (digest === "" && e.event_type === DSTACK_RUNTIME_EVENT_TYPE) {
      digest = toHex(dstackEventDigest(e.event_type, e.event, fromHex(payload)));
    }
    if (digest.length !== 96) throw new AttestationError(AttestCode.EVENT_LOG_INVALID, `event ${i} (${e.event || e.event_type}): digest is not 48 bytes`);
    return { imr: e.imr, event_type: e.event_type, digest, event: e.event, event_payload: payload };
  });
}

export function dstackEventDigest(eventType: number, event: string, payload: Uint8Array): Uint8Array {
  const type = new Uint8Array(4);
  new DataView(type.buffer).setUint32(0, eventType >>> 0, true);
  const colon = utf8.encode(":");
  return sha384(concatBytes(type, colon, utf8.encode(event), colon, payload));
}

/** Builds a runtime event the way dstack's guest agent does when an app emits one. */
export function makeRuntimeEvent(event: string, payload: Uint8Array): EventLogEntry {
  return {
    imr: 3,
    event_type: DSTACK_RUNTIME_EVENT_TYPE,
    digest: toHex(dstackEventDigest(DSTACK_RUNTIME_EVENT_TYPE, event, payload)),
    event,
    event_payload: toHex(payload),
  };
}

/**
 * Runtime events whose digest does not match their name and payload. Boot events'
 * digests are the firmware's and cannot be recomputed from the JSON; replay covers them.
 */
export function mismatchedRuntimeEvents(events: readonly EventLogEntry[]): string[] {
  const bad: string[] = [];
  for (const e of events) {
    if (e.event_type !== DSTACK_RUNTIME_EVENT_TYPE) continue;
    const want = toHex(dstackEventDigest(e.event_type, e.event, fromHex(e.event_payload)));
    if (want !== (e.digest as string as Hex)) bad.push(e.event || "(unnamed)");
  }
  return bad;
}
