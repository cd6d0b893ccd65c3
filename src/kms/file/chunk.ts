/**
 * One chunk of the streaming construction (STREAM, Hoang–Reyhanitabar–Rogaway–Vizár,
 * "Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015):
 *
 *   nonce_i = 0x000000 ‖ u64be(i) ‖ final            (12 bytes; final = 0x01 on the last chunk)
 *   aad_i   = binding ‖ u64be(i) ‖ final      binding = SHA-256(chunkBindingInput(header)), format.ts
 *
 * The index stops reordering and dropping, the final flag stops truncation at a chunk
 * boundary and extension, and the binding ties every chunk to this file's header (v1: all
 * of it; v2: all but the plaintext hash, which the header MAC covers).
 * AES-256-GCM from node:crypto (OpenSSL, AES-NI): the fastest AEAD Node has.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { TAG_LENGTH } from "./format.js";

function nonceAndAad(headerHash: Buffer, index: number, final: boolean): { nonce: Buffer; aad: Buffer } {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(BigInt(index), 3);
  nonce[11] = final ? 1 : 0;
  const aad = Buffer.alloc(32 + 9);
  headerHash.copy(aad, 0);
  aad.writeBigUInt64BE(BigInt(index), 32);
  aad[40] = final ? 1 : 0;
  return { nonce, aad };
}

/**
 * Returns ciphertext ‖ tag as parts, for a vectored write. One update over the whole chunk,
 * as fast as raw node:crypto fed 1 MiB at a time; 64 KiB updates (fewer page faults per
 * fresh output) measured no faster here.
 */
export function sealChunk(key: Buffer, headerHash: Buffer, index: number, final: boolean, plaintext: Uint8Array): Buffer[] {
  const { nonce, aad } = nonceAndAad(headerHash, index, final);
  const c = createCipheriv("aes-256-gcm", key, nonce);
  c.setAAD(aad);
  const body = c.update(plaintext);
  const tail = c.final();
  return tail.length ? [body, tail, c.getAuthTag()] : [body, c.getAuthTag()];
}

/** Returns the plaintext, or null when the chunk does not authenticate at this index and flag. */
export function openChunk(key: Buffer, headerHash: Buffer, index: number, final: boolean, sealed: Uint8Array): Buffer | null {
  if (sealed.length < TAG_LENGTH) return null;
  const { nonce, aad } = nonceAndAad(headerHash, index, final);
  const d = createDecipheriv("aes-256-gcm", key, nonce);
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  const body = d.update(sealed.subarray(0, sealed.length - TAG_LENGTH));
  try {
    d.final();
  } catch {
    body.fill(0);
    return null;
  }
  return body;
}
