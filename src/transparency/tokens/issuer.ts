/**
 * Privacy Pass issuance, RFC 9578 §6 (token type 2, blind RSA-2048, SHA-384 PSS). The
 * blind signature is node:crypto's raw RSA (OpenSSL, ~0.6 ms) instead of blindrsa-ts's
 * JS bignum (~560 ms), and every signature is checked (RSAVP1) before it leaves: the
 * RSA-raw path of blindrsa-ts skips that check (its issue #55), and a faulty signature
 * can leak the key (Bellcore/Lenstra).
 */
import { constants, KeyObject, privateDecrypt, publicEncrypt } from "node:crypto";
import { BLIND_RSA, BlindRSAMode, getPublicKeyBytes, Issuer, TokenRequest, TokenResponse } from "@cloudflare/privacypass-ts/lib/src/pub_verif_token.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { equalBytes } from "../../util/bytes.js";
import { TransparencyCode, TransparencyError } from "../errors.js";

export const TOKEN_TYPE = BLIND_RSA.value; // 0x0002
export const ISSUER_NAME = "cloister";

export interface IssuerKey {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  /** The same public key for WebCrypto (privacypass-ts verifies with it). */
  readonly verifyKey: CryptoKey;
  /** SubjectPublicKeyInfo (RSASSA-PSS) as RFC 9578 §6.5 publishes it. */
  readonly spki: Uint8Array;
  /** SHA-256(spki): the token key id. */
  readonly keyId: Uint8Array;
  readonly notBefore: number;
}

/** A fresh RSA-2048 issuer key (made in the enclave, per epoch; never leaves memory). */
export async function generateIssuerKey(now = Date.now()): Promise<IssuerKey> {
  const pair = await Issuer.generateKey(BlindRSAMode.PSS, { modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) });
  // The RSASSA-PSS SubjectPublicKeyInfo of RFC 9578 §6.5, as the library serialises it for clients.
  const spki = await getPublicKeyBytes(pair.publicKey);
  return {
    publicKey: KeyObject.from(pair.publicKey),
    privateKey: KeyObject.from(pair.privateKey),
    verifyKey: pair.publicKey,
    spki,
    keyId: sha256(spki),
    notBefore: Math.floor(now / 1000),
  };
}

/** The issuer directory (RFC 9578 §4) a client fetches: one key per epoch, the same for everyone. */
export function issuerDirectory(keys: readonly IssuerKey[], requestUri: string): unknown {
  return {
    "issuer-request-uri": requestUri,
    "token-keys": keys.map((k) => ({ "token-type": TOKEN_TYPE, "token-key": Buffer.from(k.spki).toString("base64url"), "not-before": k.notBefore })),
  };
}

/** Signs one TokenRequest; throws TOKEN_ISSUE_FAILED for a request that is not for this key or not well-formed. */
export function issueToken(key: IssuerKey, requestBytes: Uint8Array): Uint8Array {
  let req: TokenRequest;
  try {
    req = TokenRequest.deserialize(BLIND_RSA, requestBytes);
  } catch (cause) {
    throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, "not a type-2 token request", { cause });
  }
  if (req.tokenType !== TOKEN_TYPE || req.truncatedTokenKeyId !== key.keyId[31]) {
    throw new TransparencyError(TransparencyCode.TOKEN_ISSUER_UNKNOWN, "the token request is for another issuer key");
  }
  const blinded = Buffer.from(req.blindedMsg);
  let sig: Buffer;
  try {
    sig = privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, blinded);
  } catch (cause) {
    throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, "the blinded message is not below the modulus", { cause });
  }
  const back = publicEncrypt({ key: key.publicKey, padding: constants.RSA_NO_PADDING }, sig);
  if (!equalBytes(back, blinded)) throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, "the blind signature did not verify (RSAVP1); nothing was sent");
  return new TokenResponse(new Uint8Array(sig)).serialize();
}
