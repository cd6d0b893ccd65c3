/**
 * Response keys and the sealing/opening streams. Keys follow Oblivious HTTP's response
 * derivation (RFC 9458 §4.4): the node picks a fresh random response nonce, so even a
 * replayed request (same HPKE context, same exported secret) never gets the same AES key
 * and nonce for a different answer.
 *
 *   secret = HPKE.Export("cloister/e2e/v1 response", 32)
 *   prk    = HKDF-Extract(salt = enc || response_nonce, secret)
 *   key    = HKDF-Expand(prk, "key", 32);  base_nonce = HKDF-Expand(prk, "nonce", 12)
 */
import { expand, extract } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { SealError } from "../../errors.js";
import { concatBytes, utf8 } from "../../util/bytes.js";
import { E2ECode } from "./codes.js";
import { FrameOpener, FrameSealer, type FrameAead, type FrameKeys } from "./frames.js";
import { MAX_FRAME_BODY } from "./padding.js";

export const RESPONSE_NONCE_LENGTH = 32;

/** Sealed trailers: what the final frame carries (the response signature, for now). */
export type Trailers = Readonly<Record<string, unknown>>;

export function randomResponseNonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(RESPONSE_NONCE_LENGTH));
}

export function deriveResponseKeys(secret: Uint8Array, enc: Uint8Array, responseNonce: Uint8Array): FrameKeys {
  if (responseNonce.length !== RESPONSE_NONCE_LENGTH) throw new SealError(E2ECode.E2E_MALFORMED, "the response nonce must be 32 bytes");
  const prk = extract(sha256, secret, concatBytes(enc, responseNonce));
  return { key: expand(sha256, prk, utf8.encode("key"), 32), baseNonce: expand(sha256, prk, utf8.encode("nonce"), 12) };
}

/** A chunk as frame bodies: one, unless it exceeds what one padded frame holds. */
function frameBodies(chunk: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < chunk.length; at += MAX_FRAME_BODY) out.push(chunk.subarray(at, at + MAX_FRAME_BODY));
  return out;
}

/**
 * Seals each chunk of `src` as its own (padded) frame when the reader asks for it, so an
 * SSE event is on the wire as soon as it is made, then a final frame with the trailers the
 * callback returns once the body has ended (the signature is only known then). Pulled,
 * with nothing read ahead (highWaterMark 0): a layer below that counts what it handed on
 * (the market's interim receipts) counts what the writer took, and no TransformStream and
 * pipe run per response.
 */
export function sealedStream(src: ReadableStream<Uint8Array>, keys: FrameKeys, trailers: () => Trailers | Promise<Trailers>, aead?: FrameAead): ReadableStream<Uint8Array> {
  const sealer = new FrameSealer(keys, aead);
  const reader = src.getReader();
  // A cancel resolves a read still waiting on the source as `done`: that is no end of the
  // body, so no trailers (the signature) are asked for then.
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        try {
          // An empty chunk makes no frame: read on until one does, or the end.
          for (;;) {
            const { done, value } = await reader.read();
            if (cancelled) return;
            if (done) {
              ctrl.enqueue(sealer.seal(utf8.encode(JSON.stringify(await trailers())), true));
              ctrl.close();
              return;
            }
            const bodies = frameBodies(value);
            for (const body of bodies) ctrl.enqueue(sealer.seal(body, false));
            if (bodies.length > 0) return;
          }
        } catch (err) {
          ctrl.error(err);
          // Sealing failed (or the source did): stop the source as a pipe would, so the
          // backend and the layers below (usage, receipts) hear of it. No-op on an errored one.
          reader.cancel(err).catch(() => undefined);
        }
      },
      cancel(reason) {
        cancelled = true;
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Opens frames as they arrive and passes the body plaintext on; hands the trailers to
 * `onTrailers` before the stream closes; errors with E2E_TRUNCATED when the final frame
 * never came and E2E_DECRYPT_FAILED when any frame was altered.
 */
export function openingStream(keys: FrameKeys, onTrailers: (t: Trailers) => void | Promise<void>): TransformStream<Uint8Array, Uint8Array> {
  const opener = new FrameOpener(keys);
  let trailers: Trailers | null = null;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (const f of opener.push(chunk)) {
        if (!f.final) {
          if (f.plaintext.length > 0) controller.enqueue(f.plaintext);
          continue;
        }
        trailers = parseTrailers(f.plaintext);
      }
    },
    async flush() {
      opener.end();
      await onTrailers(trailers ?? {});
    },
  });
}

function parseTrailers(bytes: Uint8Array): Trailers {
  try {
    const v: unknown = JSON.parse(utf8.decode(bytes));
    if (v !== null && typeof v === "object" && !Array.isArray(v)) return v as Trailers;
  } catch {
    // fall through: authenticated but not our format
  }
  throw new SealError(E2ECode.E2E_MALFORMED, "the final frame does not hold a trailers object");
}

/** Seals a whole body at once (one body frame per MAX_FRAME_BODY bytes, then the trailers). */
export function sealBody(keys: FrameKeys, body: Uint8Array, trailers: Trailers, aead?: FrameAead): Uint8Array {
  const s = new FrameSealer(keys, aead);
  return concatBytes(...frameBodies(body).map((b) => s.seal(b, false)), s.seal(utf8.encode(JSON.stringify(trailers)), true));
}

/** Opens a whole sealed body; throws the same codes as the stream. */
export function openBody(keys: FrameKeys, sealed: Uint8Array): { body: Uint8Array; trailers: Trailers } {
  const o = new FrameOpener(keys);
  const parts: Uint8Array[] = [];
  let trailers: Trailers = {};
  for (const f of o.push(sealed)) {
    if (f.final) trailers = parseTrailers(f.plaintext);
    else parts.push(f.plaintext);
  }
  o.end();
  return { body: concatBytes(...parts), trailers };
}
