/**
 * The application identity a dstack-style RTMR3 log records. The names are dstack's
 * (app-id, compose-hash, instance-id, key-provider, os-image-hash); Cloister adds
 * `image-digest` and `agent-bundle` events. Only events whose digest replays into the
 * quote's RTMR3 mean anything: call this after the replay check passed.
 */
import { fromHex, toHex, utf8 } from "../../util/bytes.js";
import type { EventLogEntry } from "../report/format.js";
import { DSTACK_RUNTIME_EVENT_TYPE } from "./dstack.js";

export interface AppIdentity {
  readonly appId: string | null;
  /** Hex SHA-256 of the raw app-compose bytes. */
  readonly composeHash: string | null;
  readonly instanceId: string | null;
  /** The key provider's JSON as text (dstack: {"name":"kms","id":...}). */
  readonly keyProvider: string | null;
  readonly osImageHash: string | null;
  /** Container image digests ("sha256:..."), from `image-digest` events. */
  readonly imageDigests: readonly string[];
  /** Every other named runtime event, payload as text when printable, else hex. */
  readonly other: Readonly<Record<string, string>>;
}

/** Events that name the app: each may be recorded once (see repeatedIdentityEvents). */
export const IDENTITY_EVENTS: ReadonlySet<string> = new Set(["app-id", "compose-hash", "instance-id", "key-provider", "os-image-hash", "cloister-app-manifest"]);

const HEX_PAYLOADS = new Set(["app-id", "compose-hash", "instance-id", "os-image-hash"]);

function payloadText(hex: string): string {
  const bytes = fromHex(hex);
  const text = utf8.decode(bytes);
  // Printable ASCII round-trips; anything else is shown as hex so nothing is lost.
  return /^[\x20-\x7e\n\t\r]*$/.test(text) && toHex(utf8.encode(text)) === hex ? text : hex;
}

function isRuntime(e: EventLogEntry): boolean {
  return e.imr === 3 && e.event_type === DSTACK_RUNTIME_EVENT_TYPE && !!e.event;
}

/**
 * Identity events recorded more than once. RTMR3 is extend-only, so anything running in
 * the TD (the app itself included) can append a second compose-hash after the measured
 * one; a verifier that let the last one win would take the app's word for its own
 * identity. dstack emits each once at boot, so any repeat is a failure.
 */
export function repeatedIdentityEvents(events: readonly EventLogEntry[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const e of events) {
    if (!isRuntime(e) || !IDENTITY_EVENTS.has(e.event)) continue;
    if (seen.has(e.event)) repeated.add(e.event);
    seen.add(e.event);
  }
  return [...repeated];
}

/** The first occurrence of each identity event is authoritative (the one dstack measured at boot). */
export function extractAppIdentity(events: readonly EventLogEntry[]): AppIdentity {
  let appId: string | null = null;
  let composeHash: string | null = null;
  let instanceId: string | null = null;
  let keyProvider: string | null = null;
  let osImageHash: string | null = null;
  const imageDigests: string[] = [];
  const other: Record<string, string> = {};
  for (const e of events) {
    if (!isRuntime(e)) continue;
    // dstack records ids and hashes as raw bytes; the report shows them as hex.
    const value = HEX_PAYLOADS.has(e.event) ? e.event_payload : payloadText(e.event_payload);
    switch (e.event) {
      case "app-id": appId ??= value; break;
      case "compose-hash": composeHash ??= value; break;
      case "instance-id": instanceId ??= value; break;
      case "key-provider": keyProvider ??= value; break;
      case "os-image-hash": osImageHash ??= value; break;
      case "image-digest": imageDigests.push(value); break;
      default: if (e.event_payload.length > 0) other[e.event] ??= value;
    }
  }
  return { appId, composeHash, instanceId, keyProvider, osImageHash, imageDigests, other };
}
