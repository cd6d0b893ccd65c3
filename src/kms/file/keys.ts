/**
 * Keys of a sealed file, all derived from the owner's 32-byte data key with HKDF-SHA256
 * (RFC 5869, node:crypto):
 *   key_id     = HKDF(data_key, salt = "",        info = "cloister/sealed-model/v1 key-id", 16)
 *   file_key   = HKDF(data_key, salt = file salt, info = "cloister/sealed-model/v1 chunk-key", 32)
 *   mac_key    = HKDF(data_key, salt = file salt, info = "cloister/sealed-model/v1 header-mac", 32)
 * Format v2 derives its keys exactly as v1 (the labels keep "v1"): only the chunk aad differs.
 * A random salt per file gives each file its own chunk key, so one data key may seal
 * several files without nonce reuse. The header MAC also commits the file to the key
 * (AES-GCM alone is not key-committing).
 */
import { createHash, createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { SealError } from "../../errors.js";
import { SealedFileCode } from "./codes.js";
import { chunkBindingInput, type SealedHeader } from "./format.js";

export const DATA_KEY_LENGTH = 32;

function hkdf(key: Uint8Array, salt: Uint8Array, info: string, length: number): Buffer {
  return Buffer.from(hkdfSync("sha256", key, salt, Buffer.from(info, "utf8"), length));
}

export function assertDataKey(key: Uint8Array): void {
  if (key.length !== DATA_KEY_LENGTH) throw new SealError(SealedFileCode.SEALED_WRONG_KEY, "a data key is 32 bytes");
}

export function dataKeyId(dataKey: Uint8Array): string {
  assertDataKey(dataKey);
  return hkdf(dataKey, new Uint8Array(0), "cloister/sealed-model/v1 key-id", 16).toString("hex");
}

export interface FileKeys {
  readonly chunkKey: Buffer;
  readonly macKey: Buffer;
}

export function fileKeys(dataKey: Uint8Array, salt: Uint8Array): FileKeys {
  assertDataKey(dataKey);
  return {
    chunkKey: hkdf(dataKey, salt, "cloister/sealed-model/v1 chunk-key", 32),
    macKey: hkdf(dataKey, salt, "cloister/sealed-model/v1 header-mac", 32),
  };
}

export function headerMac(macKey: Uint8Array, encodedHeader: Uint8Array): Buffer {
  return createHmac("sha256", macKey).update(encodedHeader).digest();
}

export function headerMacValid(macKey: Uint8Array, encodedHeader: Uint8Array, mac: Uint8Array): boolean {
  const want = headerMac(macKey, encodedHeader);
  return mac.length === want.length && timingSafeEqual(want, mac);
}

/**
 * SHA-256 of what the header says about the file (format.ts, chunkBindingInput): bound into
 * every chunk's aad. For v1 that is the header's bytes exactly as on disk (`encoded`), as
 * v1 readers always hashed them.
 */
export function chunkBinding(header: SealedHeader, encoded: Uint8Array): Buffer {
  return createHash("sha256").update(chunkBindingInput(header, encoded)).digest();
}
