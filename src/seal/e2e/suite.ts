/**
 * The one HPKE suite E2E v1 uses (RFC 9180 §7): DHKEM(X25519, HKDF-SHA256) = 0x0020,
 * HKDF-SHA256 = 0x0001, AES-256-GCM = 0x0002, base mode. @hpke/core runs on Web Crypto,
 * so the same code seals in a browser and in Node; the key schedule's HKDF is noble's
 * (./noble-hkdf.ts: the same bytes, without a Web Crypto call per step, which in Node cost
 * ~150 µs of CPU each: sealing a request 1.1-1.2 -> 0.75-0.97 ms). The node opens with
 * its own suite on OpenSSL (src/gateway/hpke-node.ts).
 */
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256 } from "@hpke/core";
import { x25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { SealError } from "../../errors.js";
import { toHex, utf8 } from "../../util/bytes.js";
import { E2ECode } from "./codes.js";
import { NobleHkdfSha256 } from "./noble-hkdf.js";

/** HPKE `info` for every E2E v1 context (RFC 9180 §5.1): separates our contexts from any other protocol's. */
export const E2E_INFO = utf8.encode("cloister/e2e/v1");

let cached: CipherSuite | undefined;
export function e2eSuite(): CipherSuite {
  cached ??= new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new NobleHkdfSha256(), aead: new Aes256Gcm() });
  return cached;
}

export interface E2EKeyPair {
  /** Raw 32-byte X25519 public key (what the attestation report binds). */
  readonly publicKey: Uint8Array;
  /** Raw 32-byte X25519 private key; never leaves the enclave. */
  readonly privateKey: Uint8Array;
}

/** A fresh X25519 key pair (the node's per-boot E2E key). */
export function generateE2EKeyPair(): E2EKeyPair {
  const privateKey = x25519.utils.randomSecretKey();
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

/** Hex SHA-256 of the raw public key: the key id a sealed request names. */
export function e2eKeyId(publicKey: Uint8Array): string {
  return toHex(sha256(publicKey));
}

export function assertX25519Key(key: Uint8Array, what: string): void {
  if (key.length !== 32) throw new SealError(E2ECode.E2E_MALFORMED, `${what} must be a 32-byte X25519 key`);
}
