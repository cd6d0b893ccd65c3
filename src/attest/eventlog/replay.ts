/**
 * RTMR replay: each RTMR starts at 48 zero bytes and is extended as
 * RTMR = SHA-384(RTMR || digest) (Intel TDX Module spec, TDG.MR.RTMR.EXTEND).
 */
import { sha384 } from "@noble/hashes/sha2.js";
import { AttestationError } from "../../errors.js";
import type { Hex } from "../../types.js";
import { concatBytes, fromHex, toHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";

export interface ReplayEvent {
  /** RTMR index 0..3 (dstack's `imr`). */
  readonly imr: number;
  /** SHA-384 digest as bytes or hex. */
  readonly digest: Uint8Array | string;
}

export type Rtmrs = readonly [Hex, Hex, Hex, Hex];

export function extendRtmr(current: Uint8Array, digest: Uint8Array): Uint8Array {
  if (digest.length !== 48) throw new AttestationError(AttestCode.EVENT_LOG_INVALID, `an RTMR digest is 48 bytes, got ${digest.length}`);
  return sha384(concatBytes(current, digest));
}

export function replayRtmrs(events: readonly ReplayEvent[]): Rtmrs {
  const regs: Uint8Array[] = [new Uint8Array(48), new Uint8Array(48), new Uint8Array(48), new Uint8Array(48)];
  for (const e of events) {
    if (!Number.isInteger(e.imr) || e.imr < 0 || e.imr > 3) {
      throw new AttestationError(AttestCode.EVENT_LOG_INVALID, `event for RTMR ${String(e.imr)}: TDX has RTMR0..3`);
    }
    const d = typeof e.digest === "string" ? decodeDigest(e.digest) : e.digest;
    regs[e.imr] = extendRtmr(regs[e.imr] ?? new Uint8Array(48), d);
  }
  return [toHex(regs[0]!), toHex(regs[1]!), toHex(regs[2]!), toHex(regs[3]!)];
}

function decodeDigest(hex: string): Uint8Array {
  try {
    return fromHex(hex);
  } catch (cause) {
    throw new AttestationError(AttestCode.EVENT_LOG_INVALID, "event digest is not hex", { cause });
  }
}
