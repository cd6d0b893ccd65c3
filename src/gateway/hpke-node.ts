/**
 * The node's E2E HPKE suite (RFC 9180: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
 * AES-256-GCM, base mode), the same suite as ../seal/e2e/suite.ts but with synchronous
 * primitives: X25519 and AES-256-GCM by OpenSSL (node:crypto), HKDF by @noble/hashes
 * (../seal/e2e/noble-hkdf.ts). The HPKE construction itself (key schedule, labels,
 * nonces, sequence numbers, the KEM's checks) is @hpke/core's and @hpke/common's,
 * unchanged. Why: through Node's Web Crypto, each of the ~ten calls opening a request
 * makes (key imports, HMACs, the DH) builds a CryptoKey and runs as an async job: opening
 * one sealed request cost ~1.7 ms of CPU (docs/notes/api.md, "sealed requests").
 * Node only: the client keeps the Web Crypto suite, and both make the same bytes
 * (./hpke-node.contract.test.ts).
 */
import { CipherSuite, KemId, type AeadEncryptionContext, type AeadInterface, AeadId } from "@hpke/core";
import { Dhkem, XCurveDhkemPrimitives, type MontgomeryECDH } from "@hpke/common";
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, createSecretKey, diffieHellman, getRandomValues, timingSafeEqual, type KeyObject } from "node:crypto";
import { NobleHkdfSha256 } from "../seal/e2e/noble-hkdf.js";
import { bytesView } from "../util/bytes.js";

// RFC 8410's PKCS#8 prefix: a raw 32-byte X25519 secret key after it is a private key.
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");

/**
 * A secret key seen before (the node's own, imported once), by the bytes' identity: its
 * KeyObject, its public key, and a copy of the bytes it was made from. The curve is a
 * function of the bytes it is handed, and @hpke/common's X-curve key is a view of its
 * caller's bytes (an ArrayBuffer given to importKey is not copied), so a hit counts only
 * while the bytes are still those: changed in place (another key written over it, a key
 * wiped), it is made again, never answered with the old key's KeyObject or public key.
 */
interface SecretKeyEntry {
  readonly bytes: Buffer;
  readonly key: KeyObject;
  publicKey?: Uint8Array;
}
const secretKeys = new WeakMap<Uint8Array, SecretKeyEntry>();

function secretKeyEntry(sk: Uint8Array): SecretKeyEntry {
  if (sk.length !== 32) throw new RangeError("an X25519 secret key is 32 bytes");
  const now = Buffer.from(sk.buffer, sk.byteOffset, sk.byteLength);
  const seen = secretKeys.get(sk);
  if (seen && timingSafeEqual(seen.bytes, now)) return seen;
  // Buffer.alloc, not concat/from: those take small Buffers from the shared pool, where
  // the secret would stay (unwiped) beside other Buffers' bytes.
  const der = Buffer.alloc(PKCS8_X25519.length + 32);
  PKCS8_X25519.copy(der);
  der.set(now, PKCS8_X25519.length);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  } finally {
    der.fill(0);
  }
  const bytes = Buffer.alloc(32);
  bytes.set(now);
  const entry: SecretKeyEntry = { bytes, key };
  secretKeys.set(sk, entry);
  return entry;
}

/** A fresh Uint8Array that owns its whole ArrayBuffer (XCurveDhkemPrimitives hands out `.buffer`). */
function owned(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function shared(sk: Uint8Array, pk: Uint8Array): Uint8Array {
  if (pk.length !== 32) throw new RangeError("an X25519 public key is 32 bytes");
  // OpenSSL refuses a low-order point (an all-zero result), as RFC 9180 §7.1.4 requires.
  // The peer's key as a JWK: OpenSSL 3 decodes it in ~10 µs, a DER SPKI in ~120 µs.
  const peer = createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(pk.buffer, pk.byteOffset, pk.byteLength).toString("base64url") }, format: "jwk" });
  const dh = diffieHellman({ privateKey: secretKeyEntry(sk).key, publicKey: peer });
  const out = owned(dh);
  dh.fill(0);
  if (out.every((b) => b === 0)) throw new RangeError("X25519 shared secret is zero (low-order point)");
  return out;
}

function publicKey(sk: Uint8Array): Uint8Array {
  const entry = secretKeyEntry(sk);
  if (!entry.publicKey) {
    const spki = createPublicKey(entry.key).export({ format: "der", type: "spki" });
    entry.publicKey = owned(spki.subarray(spki.length - 32));
  }
  // A copy each time: a caller may keep or clear what it is given.
  return owned(entry.publicKey);
}

/** 32 random bytes in an array of their own (randomBytes' Buffer would be one more copy left unwiped). */
function randomSecret(): Uint8Array {
  return getRandomValues(new Uint8Array(32));
}

/** X25519 (RFC 7748) by OpenSSL, in the shape @hpke/common's Montgomery-curve KEM takes. */
export const nodeX25519: MontgomeryECDH = {
  scalarMult: (scalar, u) => shared(scalar, u),
  scalarMultBase: (scalar) => publicKey(scalar),
  getSharedSecret: (sk, pk) => shared(sk, pk),
  getPublicKey: (sk) => publicKey(sk),
  utils: { randomSecretKey: () => Promise.resolve(randomSecret()) },
  GuBytes: (() => {
    const g = new Uint8Array(32);
    g[0] = 9;
    return g;
  })(),
  lengths: { secretKey: 32, publicKey: 32, seed: 32 },
  keygen: () => {
    const secretKey = randomSecret();
    return { secretKey, publicKey: publicKey(secretKey) };
  },
};

class DhkemX25519Node extends Dhkem {
  override readonly secretSize = 32;
  override readonly encSize = 32;
  override readonly publicKeySize = 32;
  override readonly privateKeySize = 32;
  constructor() {
    const kdf = new NobleHkdfSha256();
    super(KemId.DhkemX25519HkdfSha256, new XCurveDhkemPrimitives("X25519", 32, nodeX25519, kdf), kdf);
  }
}

const TAG = 16;

type Bytes = ArrayBufferLike | ArrayBufferView;

/** AES-256-GCM by OpenSSL: the ciphertext is followed by its 16-byte tag, as Web Crypto's. */
class NodeAesGcmContext implements AeadEncryptionContext {
  private readonly key: KeyObject;
  constructor(key: Bytes) {
    const raw = bytesView(key);
    if (raw.length !== 32) throw new RangeError("an AES-256-GCM key is 32 bytes");
    // A KeyObject (OpenSSL's memory, wiped when freed), not Buffer.from(raw): that takes a
    // small Buffer from the shared pool, where the key would outlive the context unwiped.
    this.key = createSecretKey(raw);
    // As @hpke/core's context: the raw key it was handed is not kept.
    raw.fill(0);
  }
  seal(iv: Bytes, data: Bytes, aad: Bytes): Promise<ArrayBuffer> {
    try {
      const c = createCipheriv("aes-256-gcm", this.key, bytesView(iv));
      c.setAAD(bytesView(aad));
      const out = Buffer.concat([c.update(bytesView(data)), c.final(), c.getAuthTag()]);
      return Promise.resolve(new Uint8Array(out).buffer);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error("seal failed"));
    }
  }
  open(iv: Bytes, data: Bytes, aad: Bytes): Promise<ArrayBuffer> {
    try {
      const bytes = bytesView(data);
      if (bytes.length < TAG) throw new RangeError("ciphertext shorter than its tag");
      const d = createDecipheriv("aes-256-gcm", this.key, bytesView(iv));
      d.setAAD(bytesView(aad));
      d.setAuthTag(bytes.subarray(bytes.length - TAG));
      const out = Buffer.concat([d.update(bytes.subarray(0, bytes.length - TAG)), d.final()]);
      return Promise.resolve(new Uint8Array(out).buffer);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error("open failed"));
    }
  }
}

const nodeAes256Gcm: AeadInterface = {
  id: AeadId.Aes256Gcm,
  keySize: 32,
  nonceSize: 12,
  tagSize: TAG,
  createEncryptionContext: (key) => new NodeAesGcmContext(key),
};

let cached: CipherSuite | undefined;
/** The E2E v1 suite on node:crypto and noble (the same bytes as e2eSuite()). */
export function nodeE2ESuite(): CipherSuite {
  cached ??= new CipherSuite({ kem: new DhkemX25519Node(), kdf: new NobleHkdfSha256(), aead: nodeAes256Gcm });
  return cached;
}
