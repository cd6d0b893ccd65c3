/**
 * The node's response signer (docs/protocol.md "Signatures") on the hot path:
 *
 *   - ecdsa: libsecp256k1 (native addon, else its WebAssembly build: ./secp256k1-native.ts)
 *     signs the EIP-191 digest with a recoverable, low-s, RFC 6979 deterministic
 *     signature: the same bytes as noble's createSigner("ecdsa")
 *     (./secp256k1-native.contract.test.ts), at about a fifteenth (native) or a fifth
 *     (wasm) of its CPU here. The whole ECDSA construction stays inside the audited library:
 *     we only hash (EIP-191, ../seal/signing.ts) and lay out r||s||v.
 *   - ed25519: OpenSSL's Ed25519 (node:crypto), RFC 8032, the same bytes as noble's.
 *
 * It signs on the event loop: a signature costs ~0.15–0.3 ms of CPU either way, and a
 * round trip to a worker thread per request cost more event-loop time than it saved
 * (docs/notes/api.md "Performance").
 */
import { createPrivateKey, sign as nodeSign, type KeyObject } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import type { SigningAlgo } from "../seal/signing.js";
import { personalMessageDigest } from "./keccak-native.js";
import { isPrivate, recoverableSigner, type RecoverableSigner } from "./secp256k1-native.js";

export interface SigningPool {
  sign(algo: SigningAlgo, text: string): Promise<string>;
  close(): Promise<void>;
}

export interface SigningKeys {
  /** The same secret keys the node's Signers were made from (createSigner(algo, key)). */
  readonly ecdsa: Uint8Array;
  readonly ed25519: Uint8Array;
}

function ed25519Key(secret: Uint8Array): KeyObject {
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64url");
  return createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: b64(secret), x: b64(ed25519.getPublicKey(secret)) }, format: "jwk" });
}

/** An Ethereum personal-message signature (0x r||s||v, v in {27, 28}) by libsecp256k1. */
export function nativeEcdsaSigner(secretKey: Uint8Array, lib: RecoverableSigner = recoverableSigner()): (text: string) => string {
  if (!isPrivate(secretKey)) throw new RangeError("invalid secp256k1 secret key");
  const key = Uint8Array.from(secretKey);
  return (text) => {
    const { signature, recoveryId } = lib.sign(personalMessageDigest(text), key);
    const out = Buffer.allocUnsafe(65);
    out.set(signature, 0);
    out[64] = 27 + recoveryId;
    return `0x${out.toString("hex")}`;
  };
}

export function createSigningPool(keys: SigningKeys): SigningPool {
  let closed = false;
  const ecdsa = nativeEcdsaSigner(keys.ecdsa);
  const edKey = ed25519Key(keys.ed25519);
  return {
    sign(algo, text) {
      if (closed) return Promise.reject(new Error("the signing pool is closed"));
      try {
        return Promise.resolve(algo === "ecdsa" ? ecdsa(text) : nodeSign(null, Buffer.from(text, "utf8"), edKey).toString("hex"));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error("signing failed"));
      }
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
