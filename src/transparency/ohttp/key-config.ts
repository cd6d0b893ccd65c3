/**
 * RFC 9458 §3 key configuration: key_id(8) kem_id(16) public_key(Npk) then a
 * length-prefixed list of (kdf_id(16), aead_id(16)). The node's OHTTP key IS its attested
 * E2E X25519 key (bound in report_data), so a client can tell a per-user key a relay
 * hands it from the one the hardware vouched for; the HPKE info strings keep the two
 * uses apart.
 */
import { TransparencyCode, TransparencyError } from "../errors.js";

export const KEM_X25519_SHA256 = 0x0020;
export const KDF_HKDF_SHA256 = 0x0001;
export const AEAD_AES_128_GCM = 0x0001;
export const AEAD_AES_256_GCM = 0x0002;
export const OHTTP_KEYS_TYPE = "application/ohttp-keys";
export const OHTTP_REQUEST_TYPE = "message/ohttp-req";
export const OHTTP_RESPONSE_TYPE = "message/ohttp-res";

export interface SymmetricSuite {
  readonly kdfId: number;
  readonly aeadId: number;
}

export interface KeyConfig {
  readonly keyId: number;
  readonly kemId: number;
  readonly publicKey: Uint8Array;
  readonly suites: readonly SymmetricSuite[];
}

export function encodeKeyConfig(c: KeyConfig): Uint8Array {
  if (c.kemId !== KEM_X25519_SHA256 || c.publicKey.length !== 32) throw new TransparencyError(TransparencyCode.OHTTP_KEY_CONFIG_INVALID, "only DHKEM(X25519, HKDF-SHA256) keys are supported");
  const out = new Uint8Array(1 + 2 + 32 + 2 + 4 * c.suites.length);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, c.keyId);
  dv.setUint16(1, c.kemId);
  out.set(c.publicKey, 3);
  dv.setUint16(35, 4 * c.suites.length);
  c.suites.forEach((s, i) => {
    dv.setUint16(37 + 4 * i, s.kdfId);
    dv.setUint16(39 + 4 * i, s.aeadId);
  });
  return out;
}

export function decodeKeyConfig(bytes: Uint8Array): KeyConfig {
  const bad = (why: string): never => {
    throw new TransparencyError(TransparencyCode.OHTTP_KEY_CONFIG_INVALID, `OHTTP key configuration: ${why}`);
  };
  if (bytes.length < 3) bad("too short");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kemId = dv.getUint16(1);
  if (kemId !== KEM_X25519_SHA256) bad(`KEM ${kemId} is not supported`);
  if (bytes.length < 37) bad("truncated key");
  const len = dv.getUint16(35);
  if (len === 0 || len % 4 !== 0 || bytes.length !== 37 + len) bad("bad symmetric algorithm list");
  const suites: SymmetricSuite[] = [];
  for (let o = 37; o < 37 + len; o += 4) suites.push({ kdfId: dv.getUint16(o), aeadId: dv.getUint16(o + 2) });
  // A copy (the Uint8Array constructor): on a Node Buffer slice() is a view, and the key would change when the caller reuses its bytes.
  return { keyId: dv.getUint8(0), kemId, publicKey: new Uint8Array(bytes.subarray(3, 35)), suites };
}

/** A key id derived from the key itself, so every client sees the same one for one key. */
export function ohttpKeyId(publicKey: Uint8Array): number {
  return (publicKey[0] as number) ^ (publicKey[31] as number);
}

/** The node's configuration for its E2E key: AES-128-GCM (RFC 9458's example suite) and AES-256-GCM. */
export function nodeKeyConfig(publicKey: Uint8Array, keyId: number): KeyConfig {
  return {
    keyId,
    kemId: KEM_X25519_SHA256,
    publicKey,
    suites: [
      { kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_128_GCM },
      { kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_256_GCM },
    ],
  };
}
