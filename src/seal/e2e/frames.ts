/**
 * Chunked response framing, a STREAM construction (Hoang et al., "Online
 * Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", 2015) over AES-256-GCM:
 *
 *   frame   = header(4) || AES-256-GCM(key, nonce_i, aad = header, padded)
 *   header  = uint32 big-endian: bit 31 = final flag, bits 0..30 = ciphertext length
 *   nonce_i = base_nonce XOR uint96_be(i), i = 0, 1, 2, ...
 *   padded  = uint32_be(body length) || body || zeros to a size bucket (padding.ts)
 *
 * The counter in the nonce makes reordering, dropping or duplicating a frame fail to
 * authenticate; the final flag, authenticated as part of the header, makes cutting the
 * stream short detectable (a stream that ends without a final frame is truncated).
 * The final frame carries the sealed trailers (JSON), never body bytes. Padding inside
 * the AEAD hides each frame's real length (one SSE event ~ one token) from the path.
 */
import { gcm } from "@noble/ciphers/aes.js";
import { SealError } from "../../errors.js";
import { concatBytes } from "../../util/bytes.js";
import { E2ECode } from "./codes.js";
import { MAX_PADDED_PLAINTEXT, pad, unpad } from "./padding.js";

export const FRAME_HEADER_LENGTH = 4;
const TAG_LENGTH = 16;
const FINAL_BIT = 0x8000_0000;
/** Largest ciphertext a frame may carry: bounds what a reader buffers before it can authenticate. */
export const MAX_FRAME_CIPHERTEXT = MAX_PADDED_PLAINTEXT + TAG_LENGTH;

export interface FrameKeys {
  readonly key: Uint8Array;
  readonly baseNonce: Uint8Array;
}

/**
 * AES-256-GCM, swappable: the default (@noble/ciphers) runs anywhere; the node passes
 * node:crypto's, an order of magnitude faster per small frame (one per SSE event).
 * `decrypt` throws when the tag does not verify.
 */
export interface FrameAead {
  encrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  decrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}

export const nobleAesGcm: FrameAead = {
  encrypt: (key, nonce, aad, pt) => gcm(key, nonce, aad).encrypt(pt),
  decrypt: (key, nonce, aad, ct) => gcm(key, nonce, aad).decrypt(ct),
};

function frameNonce(base: Uint8Array, counter: number): Uint8Array {
  const n = base.slice();
  let c = counter;
  for (let i = 11; i >= 4 && c > 0; i--) {
    n[i] = (n[i] ?? 0) ^ (c & 0xff);
    c = Math.floor(c / 256);
  }
  return n;
}

function header(length: number, final: boolean): Uint8Array {
  const h = new Uint8Array(FRAME_HEADER_LENGTH);
  new DataView(h.buffer).setUint32(0, (final ? FINAL_BIT : 0) + length, false);
  return h;
}

/** Seals frames in order; after the final frame it refuses more. */
export class FrameSealer {
  private counter = 0;
  private done = false;
  constructor(
    private readonly keys: FrameKeys,
    private readonly aead: FrameAead = nobleAesGcm,
  ) {}

  /** Seals one body (at most MAX_FRAME_BODY bytes), padded to its size bucket. */
  seal(body: Uint8Array, final: boolean): Uint8Array {
    if (this.done) throw new SealError(E2ECode.E2E_MALFORMED, "no frames may follow the final frame");
    const plaintext = pad(body);
    const h = header(plaintext.length + TAG_LENGTH, final);
    const ct = this.aead.encrypt(this.keys.key, frameNonce(this.keys.baseNonce, this.counter++), h, plaintext);
    this.done = final;
    return concatBytes(h, ct);
  }
}

export interface OpenedFrame {
  /** The frame's body, length prefix and padding removed. */
  readonly plaintext: Uint8Array;
  readonly final: boolean;
}

/** Reassembles frames from arbitrary byte chunks (TCP splits them anywhere) and opens them. */
export class FrameOpener {
  private buf: Uint8Array = new Uint8Array(0);
  private counter = 0;
  private finished = false;
  constructor(
    private readonly keys: FrameKeys,
    private readonly aead: FrameAead = nobleAesGcm,
  ) {}

  get sawFinal(): boolean {
    return this.finished;
  }

  push(bytes: Uint8Array): OpenedFrame[] {
    this.buf = this.buf.length === 0 ? bytes.slice() : concatBytes(this.buf, bytes);
    const out: OpenedFrame[] = [];
    while (this.buf.length > 0) {
      if (this.finished) throw new SealError(E2ECode.E2E_MALFORMED, "bytes after the final frame");
      if (this.buf.length < FRAME_HEADER_LENGTH) break;
      const word = new DataView(this.buf.buffer, this.buf.byteOffset, FRAME_HEADER_LENGTH).getUint32(0, false);
      const final = (word & FINAL_BIT) !== 0;
      const length = word & ~FINAL_BIT;
      if (length < TAG_LENGTH || length > MAX_FRAME_CIPHERTEXT) throw new SealError(E2ECode.E2E_MALFORMED, "frame length out of range");
      if (this.buf.length < FRAME_HEADER_LENGTH + length) break;
      const h = this.buf.subarray(0, FRAME_HEADER_LENGTH);
      const ct = this.buf.subarray(FRAME_HEADER_LENGTH, FRAME_HEADER_LENGTH + length);
      let padded: Uint8Array;
      try {
        padded = this.aead.decrypt(this.keys.key, frameNonce(this.keys.baseNonce, this.counter), h, ct);
      } catch (cause) {
        throw new SealError(E2ECode.E2E_DECRYPT_FAILED, `response frame ${this.counter} did not authenticate`, { cause });
      }
      const plaintext = unpad(padded);
      this.counter++;
      this.finished = final;
      out.push({ plaintext, final });
      this.buf = this.buf.subarray(FRAME_HEADER_LENGTH + length);
    }
    return out;
  }

  /** Call at end of input: a stream without its final frame was cut short. */
  end(): void {
    if (!this.finished) {
      throw new SealError(E2ECode.E2E_TRUNCATED, this.buf.length > 0 ? "the sealed response ended inside a frame" : "the sealed response ended before its final frame");
    }
  }
}
