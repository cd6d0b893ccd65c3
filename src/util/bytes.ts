import { bytesToHex as nobleToHex, hexToBytes as nobleFromHex } from "@noble/hashes/utils.js";
import { CloisterError } from "../errors.js";
import type { Hex } from "../types.js";

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

export function toHex(bytes: Uint8Array): Hex {
  // Node's encoder makes one flat string. noble's appends two characters at a time, and a
  // kept copy of that (a receipt's salt, an id) keeps the rope: ~30 heap objects per value.
  return (NodeBuffer ? NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex") : nobleToHex(bytes)) as Hex;
}

/** Accepts upper or lower case, with or without 0x; throws a typed error otherwise. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.trim().replace(/^0x/i, "");
  try {
    return nobleFromHex(clean.toLowerCase());
  } catch (cause) {
    throw new CloisterError("INVALID_HEX", "not a valid hex string", { cause });
  }
}

/** The bytes of an ArrayBuffer or of a view (its own window only), without copying. */
export function bytesView(input: ArrayBufferLike | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input);
}

/**
 * A view's own bytes as an ArrayBuffer of exactly that length (what Web Crypto and @hpke
 * take and return): its buffer when the view spans all of it, else a copy. Not
 * `bytes.slice().buffer`: on a Node Buffer `slice()` is a view, so that is the whole
 * backing store (for a small Buffer, the 8 KiB pool shared with the rest of the process).
 */
export function exactArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  // The Uint8Array constructor copies into a new ArrayBuffer of the view's length, for any subclass.
  return new Uint8Array(bytes).buffer;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export const utf8 = {
  encode: (s: string): Uint8Array => new TextEncoder().encode(s),
  decode: (b: Uint8Array): string => new TextDecoder().decode(b),
};
