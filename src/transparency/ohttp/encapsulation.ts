/**
 * RFC 9458 §4.3 (request) and §4.4 (response) encapsulation on @hpke/core; binary
 * HTTP (RFC 9292) is the caller's. The response key is exported from the request's HPKE
 * context and salted with enc and a fresh response nonce, so nothing but the gateway that
 * opened the request can answer it.
 */
import { Aes128Gcm, Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256, type RecipientContext, type SenderContext } from "@hpke/core";
import { gcm } from "@noble/ciphers/aes.js";
import { expand, extract } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, exactArrayBuffer, utf8 } from "../../util/bytes.js";
import { TransparencyCode, TransparencyError } from "../errors.js";
import { AEAD_AES_128_GCM, AEAD_AES_256_GCM, KDF_HKDF_SHA256, KEM_X25519_SHA256, type KeyConfig } from "./key-config.js";

const REQUEST_LABEL = utf8.encode("message/bhttp request");
const RESPONSE_LABEL = "message/bhttp response";
const ENC_LEN = 32;
const NN = 12;

function aeadParams(aeadId: number): { nk: number; aead: Aes128Gcm | Aes256Gcm } {
  if (aeadId === AEAD_AES_128_GCM) return { nk: 16, aead: new Aes128Gcm() };
  if (aeadId === AEAD_AES_256_GCM) return { nk: 32, aead: new Aes256Gcm() };
  throw new TransparencyError(TransparencyCode.OHTTP_ENCODING_INVALID, `AEAD ${aeadId} is not supported`);
}

function suiteFor(aeadId: number): CipherSuite {
  return new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: aeadParams(aeadId).aead });
}

function header(keyId: number, aeadId: number): Uint8Array {
  const h = new Uint8Array(7);
  const dv = new DataView(h.buffer);
  dv.setUint8(0, keyId);
  dv.setUint16(1, KEM_X25519_SHA256);
  dv.setUint16(3, KDF_HKDF_SHA256);
  dv.setUint16(5, aeadId);
  return h;
}

export interface ClientRequestContext {
  readonly encapsulated: Uint8Array;
  /** Opens the gateway's encapsulated response to this request. */
  openResponse(encResponse: Uint8Array): Promise<Uint8Array>;
}

export async function encapsulateRequest(
  config: KeyConfig,
  request: Uint8Array,
  opts: { aeadId?: number; ekm?: CryptoKeyPair } = {},
): Promise<ClientRequestContext> {
  const aeadId = opts.aeadId ?? config.suites[0]?.aeadId ?? AEAD_AES_128_GCM;
  if (!config.suites.some((s) => s.kdfId === KDF_HKDF_SHA256 && s.aeadId === aeadId)) {
    throw new TransparencyError(TransparencyCode.OHTTP_KEY_CONFIG_INVALID, "the gateway does not offer this suite");
  }
  const suite = suiteFor(aeadId);
  const hdr = header(config.keyId, aeadId);
  const recipientPublicKey = await suite.kem.deserializePublicKey(exactArrayBuffer(config.publicKey));
  const sender: SenderContext = await suite.createSenderContext({
    recipientPublicKey,
    info: concatBytes(REQUEST_LABEL, new Uint8Array([0]), hdr),
    ...(opts.ekm ? { ekm: opts.ekm } : {}),
  });
  const enc = new Uint8Array(sender.enc);
  const ct = new Uint8Array(await sender.seal(exactArrayBuffer(request)));
  const { nk } = aeadParams(aeadId);
  const secret = new Uint8Array(await sender.export(utf8.encode(RESPONSE_LABEL), Math.max(nk, NN)));
  return {
    encapsulated: concatBytes(hdr, enc, ct),
    openResponse: async (encResponse) => {
      const nonceLen = Math.max(nk, NN);
      if (encResponse.length < nonceLen + 16) throw new TransparencyError(TransparencyCode.OHTTP_DECAPSULATION_FAILED, "encapsulated response too short");
      const { key, nonce } = responseKeys(secret, enc, encResponse.slice(0, nonceLen), nk);
      try {
        return gcm(key, nonce).decrypt(encResponse.slice(nonceLen));
      } catch (cause) {
        throw new TransparencyError(TransparencyCode.OHTTP_DECAPSULATION_FAILED, "the response does not open under this request's key", { cause });
      }
    },
  };
}

function responseKeys(secret: Uint8Array, enc: Uint8Array, responseNonce: Uint8Array, nk: number): { key: Uint8Array; nonce: Uint8Array } {
  const prk = extract(sha256, secret, concatBytes(enc, responseNonce));
  return { key: expand(sha256, prk, utf8.encode("key"), nk), nonce: expand(sha256, prk, utf8.encode("nonce"), NN) };
}

export interface GatewayRequest {
  readonly request: Uint8Array;
  /** Encapsulates the answer; `responseNonce` only for test vectors. */
  encapsulateResponse(response: Uint8Array, responseNonce?: Uint8Array): Uint8Array;
}

export interface GatewayKey {
  readonly config: KeyConfig;
  readonly privateKey: Uint8Array;
}

export async function decapsulateRequest(keys: readonly GatewayKey[], encRequest: Uint8Array): Promise<GatewayRequest> {
  const fail = (why: string, cause?: unknown): never => {
    throw new TransparencyError(TransparencyCode.OHTTP_DECAPSULATION_FAILED, `OHTTP request: ${why}`, cause === undefined ? undefined : { cause });
  };
  if (encRequest.length < 7 + ENC_LEN + 16) fail("too short");
  const dv = new DataView(encRequest.buffer, encRequest.byteOffset, encRequest.byteLength);
  const keyId = dv.getUint8(0);
  const key = keys.find((k) => k.config.keyId === keyId);
  if (!key) return fail(`no key ${keyId}`);
  if (dv.getUint16(1) !== KEM_X25519_SHA256 || dv.getUint16(3) !== KDF_HKDF_SHA256) fail("unsupported KEM or KDF");
  const aeadId = dv.getUint16(5);
  if (!key.config.suites.some((s) => s.aeadId === aeadId)) fail(`AEAD ${aeadId} not offered`);
  const suite = suiteFor(aeadId);
  // Copies (the Uint8Array constructor), not slice(): on a Node Buffer that is a view, and
  // `enc` keys the response later, after the caller may have reused its bytes.
  const hdr = new Uint8Array(encRequest.subarray(0, 7));
  const enc = new Uint8Array(encRequest.subarray(7, 7 + ENC_LEN));
  let recipient: RecipientContext;
  let request: Uint8Array;
  try {
    const recipientKey = await suite.kem.deserializePrivateKey(exactArrayBuffer(key.privateKey));
    recipient = await suite.createRecipientContext({ recipientKey, enc: exactArrayBuffer(enc), info: concatBytes(REQUEST_LABEL, new Uint8Array([0]), hdr) });
    request = new Uint8Array(await recipient.open(exactArrayBuffer(encRequest.subarray(7 + ENC_LEN))));
  } catch (cause) {
    return fail("does not open under this gateway's key", cause);
  }
  const { nk } = aeadParams(aeadId);
  const secret = new Uint8Array(await recipient.export(utf8.encode(RESPONSE_LABEL), Math.max(nk, NN)));
  return {
    request,
    encapsulateResponse: (response, fixedNonce) => {
      const responseNonce = fixedNonce ?? crypto.getRandomValues(new Uint8Array(Math.max(nk, NN)));
      const { key: k, nonce } = responseKeys(secret, enc, responseNonce, nk);
      return concatBytes(responseNonce, gcm(k, nonce).encrypt(response));
    },
  };
}
