/**
 * The signer a report binds: for ecdsa the 20-byte Ethereum address of a secp256k1 key
 * (keccak-256 of the uncompressed point without its 0x04 prefix, last 20 bytes), for
 * ed25519 the 32-byte public key itself. Accepts secp256k1 keys compressed (33 bytes),
 * uncompressed (65) or as NEAR sends them, x||y without prefix (64).
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { AttestationError } from "../../errors.js";
import { concatBytes, fromHex, toHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import type { SigningAlgo } from "./format.js";

export function ethereumAddress(publicKey: Uint8Array): string {
  const key = publicKey.length === 64 ? concatBytes(new Uint8Array([4]), publicKey) : publicKey;
  let uncompressed: Uint8Array;
  try {
    uncompressed = secp256k1.Point.fromBytes(key).toBytes(false);
  } catch (cause) {
    throw new AttestationError(AttestCode.REPORT_DATA_MISMATCH, "signing_public_key is not a secp256k1 point", { cause });
  }
  return `0x${toHex(keccak_256(uncompressed.subarray(1)).subarray(12))}`;
}

export function signerBytes(algo: SigningAlgo, publicKey: Uint8Array): { address: string; signer: Uint8Array } {
  if (algo === "ed25519") {
    if (publicKey.length !== 32) throw new AttestationError(AttestCode.REPORT_DATA_MISMATCH, "an ed25519 public key is 32 bytes");
    return { address: toHex(publicKey), signer: publicKey };
  }
  const address = ethereumAddress(publicKey);
  return { address, signer: fromHex(address) };
}
