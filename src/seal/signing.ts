/**
 * Response signatures (docs/protocol.md, "Signatures"). Browser-safe: @noble only.
 *
 * ecdsa: secp256k1 over the text as an Ethereum personal message (EIP-191), 65-byte
 * r||s||v with v in {27, 28}, so anyone can recover the signer's address with standard
 * tools (ethers, viem) and compare it with the attested `signing_address`.
 * ed25519: RFC 8032 over the UTF-8 text; `signing_address` is the hex public key.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { SealError } from "../errors.js";
import { concatBytes, equalBytes, fromHex, toHex, utf8 } from "../util/bytes.js";

export type SigningAlgo = "ecdsa" | "ed25519";

export interface Signer {
  readonly algo: SigningAlgo;
  /** 0x Ethereum address (ecdsa) or hex public key (ed25519). */
  readonly address: string;
  /** 33-byte compressed secp256k1 or 32-byte ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** What report_data binds: the 20-byte address (ecdsa) or the 32-byte key (ed25519). */
  readonly bindingBytes: Uint8Array;
  /** Signature of the text: 0x + 130 hex (ecdsa, r||s||v), or 128 hex (ed25519). */
  sign(text: string): string;
  /**
   * ecdsa only: 65-byte r||s||v (v in {27, 28}) over a 32-byte digest as given, for
   * EIP-712 typed data (the digest is already keccak256("\x19\x01" || domain || struct)).
   */
  signDigest?(digest: Uint8Array): string;
}

export interface SignedText {
  readonly text: string;
  readonly signature: string;
  readonly signing_address: string;
  readonly signing_algo: SigningAlgo;
}

/** The EIP-191 personal message: "\x19Ethereum Signed Message:\n" + byte length + the UTF-8 text. */
export function personalMessage(text: string): Uint8Array {
  const msg = utf8.encode(text);
  return concatBytes(utf8.encode(`\x19Ethereum Signed Message:\n${msg.length}`), msg);
}

export function personalMessageHash(text: string): Uint8Array {
  return keccak_256(personalMessage(text));
}

export function addressFromPublicKey(publicKey: Uint8Array): string {
  const uncompressed = secp256k1.Point.fromBytes(publicKey).toBytes(false);
  return `0x${toHex(keccak_256(uncompressed.subarray(1)).subarray(12))}`;
}

/** Makes a signer from a secret key, or a fresh random one (the node's per-boot key). */
export function createSigner(algo: SigningAlgo, secretKey?: Uint8Array): Signer {
  if (algo === "ecdsa") {
    const sk = secretKey ?? secp256k1.utils.randomSecretKey();
    const publicKey = secp256k1.getPublicKey(sk, true);
    const address = addressFromPublicKey(publicKey);
    return {
      algo,
      address,
      publicKey,
      bindingBytes: fromHex(address),
      sign(text) {
        // noble's "recovered" format is v||r||s with v in {0,1}; Ethereum wants r||s||(v+27),
        // 0x-prefixed as ethers' and viem's verifyMessage expect (docs/protocol.md "Signatures").
        const sig = secp256k1.sign(personalMessageHash(text), sk, { prehash: false, format: "recovered" });
        return `0x${toHex(concatBytes(sig.subarray(1), new Uint8Array([(sig[0] ?? 0) + 27])))}`;
      },
      signDigest(digest) {
        if (digest.length !== 32) throw new SealError("SIGNATURE_INVALID", "a digest to sign must be 32 bytes");
        const sig = secp256k1.sign(digest, sk, { prehash: false, format: "recovered" });
        return toHex(concatBytes(sig.subarray(1), new Uint8Array([(sig[0] ?? 0) + 27])));
      },
    };
  }
  const sk = secretKey ?? ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(sk);
  return {
    algo,
    address: toHex(publicKey),
    publicKey,
    bindingBytes: publicKey,
    sign: (text) => toHex(ed25519.sign(utf8.encode(text), sk)),
  };
}

/**
 * Recovers the Ethereum address that made a 65-byte personal-message signature, given as
 * hex with or without `0x` (nodes before protocol 2026-12 sent it bare), v in {27,28} or {0,1}.
 */
export function recoverAddress(text: string, signatureHex: string): string {
  return recoverDigestAddress(personalMessageHash(text), signatureHex);
}

/** Recovers the Ethereum address that made a 65-byte signature over a 32-byte digest (EIP-712). */
export function recoverDigestAddress(digest: Uint8Array, signatureHex: string): string {
  const sig = fromHex(signatureHex);
  if (sig.length !== 65) throw new SealError("SIGNATURE_INVALID", "an ecdsa signature must be 65 bytes (r||s||v)");
  const v = sig[64] ?? 0;
  const recovery = v >= 27 ? v - 27 : v;
  if (recovery !== 0 && recovery !== 1) throw new SealError("SIGNATURE_INVALID", "bad recovery byte");
  const recovered = concatBytes(new Uint8Array([recovery]), sig.subarray(0, 64));
  try {
    const pub = secp256k1.recoverPublicKey(recovered, digest, { prehash: false });
    return addressFromPublicKey(pub);
  } catch (cause) {
    throw new SealError("SIGNATURE_INVALID", "signature does not recover to a public key", { cause });
  }
}

/** True only when `signature` over `text` was made by `signing_address`. Never throws on bad input. */
export function verifySignedText(s: SignedText): boolean {
  try {
    if (s.signing_algo === "ecdsa") return recoverAddress(s.text, s.signature) === s.signing_address.toLowerCase();
    const pub = fromHex(s.signing_address);
    return ed25519.verify(fromHex(s.signature), utf8.encode(s.text), pub);
  } catch {
    return false;
  }
}

export function samePublicKey(a: Uint8Array, b: Uint8Array): boolean {
  return equalBytes(a, b);
}
