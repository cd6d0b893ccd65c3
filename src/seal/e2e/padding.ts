/**
 * Frame padding, inside the AEAD: every frame's plaintext is
 *
 *   padded = uint32_be(real_length) || body || zero bytes up to bucket(4 + real_length)
 *
 * so a frame's on-wire length reveals only a size bucket, not the length of the token(s)
 * it carries (the "token length side channel": Weiss et al., "What Was Your Prompt? A
 * Remote Keylogging Attack on AI Assistants", USENIX Security 2024). The length prefix and
 * the padding are encrypted and authenticated with the body, so a proxy can neither read
 * nor alter them; the opener still checks them, since a bad prefix or non-zero padding
 * means the frame was not made by this construction (E2E_MALFORMED).
 */
import { SealError } from "../../errors.js";
import { E2ECode } from "./codes.js";

export const LENGTH_PREFIX = 4;
/** Small frames (SSE events, the trailers) pad to a multiple of this. */
export const SMALL_BUCKET = 256;
/** Above this, frames pad to the next power of two (at most 2x, bounded number of sizes). */
const SMALL_LIMIT = 4096;
/** Largest padded plaintext (a power of two, so power-of-two buckets never exceed it). */
export const MAX_PADDED_PLAINTEXT = 16 * 1024 * 1024;
/** Largest body one frame can carry; callers split longer bodies. */
export const MAX_FRAME_BODY = MAX_PADDED_PLAINTEXT - LENGTH_PREFIX;

/** The padded plaintext size for a body of `bodyLength` bytes. */
export function paddedLength(bodyLength: number): number {
  const n = LENGTH_PREFIX + bodyLength;
  if (n <= SMALL_LIMIT) return Math.max(SMALL_BUCKET, Math.ceil(n / SMALL_BUCKET) * SMALL_BUCKET);
  let p = SMALL_LIMIT;
  while (p < n) p *= 2;
  return Math.min(p, MAX_PADDED_PLAINTEXT);
}

export function pad(body: Uint8Array): Uint8Array {
  if (body.length > MAX_FRAME_BODY) throw new SealError(E2ECode.E2E_MALFORMED, "frame too large");
  const out = new Uint8Array(paddedLength(body.length)); // zero-filled: the padding
  new DataView(out.buffer).setUint32(0, body.length, false);
  out.set(body, LENGTH_PREFIX);
  return out;
}

export function unpad(padded: Uint8Array): Uint8Array {
  if (padded.length < LENGTH_PREFIX) throw new SealError(E2ECode.E2E_MALFORMED, "frame plaintext shorter than its length prefix");
  const real = new DataView(padded.buffer, padded.byteOffset, LENGTH_PREFIX).getUint32(0, false);
  if (real > padded.length - LENGTH_PREFIX) throw new SealError(E2ECode.E2E_MALFORMED, "frame length prefix exceeds the frame");
  const end = LENGTH_PREFIX + real;
  for (let i = end; i < padded.length; i++) {
    if (padded[i] !== 0) throw new SealError(E2ECode.E2E_MALFORMED, "frame padding is not zero");
  }
  return padded.subarray(LENGTH_PREFIX, end);
}
