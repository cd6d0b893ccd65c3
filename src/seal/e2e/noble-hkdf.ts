/**
 * HKDF-SHA256 for HPKE (RFC 9180 §4) on @noble/hashes' HKDF (RFC 5869), synchronous, in
 * place of Web Crypto's. The HPKE construction, its labels and every length check stay
 * @hpke/core's: only the three primitives are swapped. Why: in Node each Web Crypto call
 * builds a CryptoKey and runs as an async job, ~150 µs of CPU apiece, and opening one
 * sealed request makes about eight of them (docs/notes/api.md, "sealed requests").
 * Browser-safe (pure JS); the same bytes as Web Crypto's (./noble-hkdf.contract.test.ts).
 */
import { HkdfSha256, InvalidParamError } from "@hpke/core";
import { expand, extract, hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesView as view, exactArrayBuffer as exactBuffer } from "../../util/bytes.js";


export class NobleHkdfSha256 extends HkdfSha256 {
  override extract(salt: ArrayBufferLike | ArrayBufferView, ikm: ArrayBufferLike | ArrayBufferView): Promise<ArrayBuffer> {
    const s = view(salt);
    // As @hpke/core's: an empty salt is Nh zero bytes (the same HMAC key), any other length is refused.
    if (s.byteLength !== 0 && s.byteLength !== this.hashSize) return Promise.reject(new InvalidParamError("The salt length must be the same as the hashSize"));
    return Promise.resolve(exactBuffer(extract(sha256, view(ikm), s.byteLength === 0 ? new Uint8Array(this.hashSize) : s)));
  }

  override expand(prk: ArrayBufferLike | ArrayBufferView, info: ArrayBufferLike | ArrayBufferView, len: number): Promise<ArrayBuffer> {
    try {
      return Promise.resolve(exactBuffer(expand(sha256, view(prk), view(info), len)));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error("HKDF-Expand failed"));
    }
  }

  override extractAndExpand(salt: ArrayBufferLike | ArrayBufferView, ikm: ArrayBufferLike | ArrayBufferView, info: ArrayBufferLike | ArrayBufferView, len: number): Promise<ArrayBuffer> {
    try {
      return Promise.resolve(exactBuffer(hkdf(sha256, view(ikm), view(salt), view(info), len)));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error("HKDF failed"));
    }
  }
}
