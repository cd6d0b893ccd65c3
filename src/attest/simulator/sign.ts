import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";

/** ECDSA over SHA-256 (P-256) or SHA-384 (P-384), raw r||s as DCAP and SPDM encode it. */
export function signRaw(key: KeyObject, hash: "sha256" | "sha384", data: Uint8Array): Uint8Array {
  return new Uint8Array(sign(hash, data, { key, dsaEncoding: "ieee-p1363" }));
}

export function privateKeyFromPem(pem: string): KeyObject {
  return createPrivateKey(pem);
}

/** A fresh P-256 key and its raw x||y public point (64 bytes), the DCAP attestation key encoding. */
export function freshP256(): { privateKey: KeyObject; rawPublic: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const x = Buffer.from(jwk.x ?? "", "base64url");
  const y = Buffer.from(jwk.y ?? "", "base64url");
  return { privateKey, rawPublic: new Uint8Array(Buffer.concat([x, y])) };
}
