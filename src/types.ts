/**
 * Branded types: a string or bigint that has been checked once at the boundary and
 * carries its meaning through the code. Construct them only with the parsers below.
 */
import { CloisterError } from "./errors.js";

declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Lower-case hex without 0x. */
export type Hex = Brand<string, "Hex">;
/** 32-byte SHA-256 digest, lower-case hex. */
export type Sha256 = Brand<string, "Sha256">;
/** A TEE measurement register (MRTD, RTMRn, SNP measurement, MRENCLAVE...), lower-case hex. */
export type Measurement = Brand<string, "Measurement">;
/** A client's 32-byte freshness nonce, lower-case hex (64 chars). */
export type Nonce = Brand<string, "Nonce">;
/** An Ethereum address, 0x-prefixed, lower-case. */
export type Address = Brand<`0x${string}`, "Address">;
/** An amount of a token in its smallest unit. */
export type TokenAmount = Brand<bigint, "TokenAmount">;
export type NodeId = Brand<string, "NodeId">;
export type AgentId = Brand<string, "AgentId">;

const HEX_RE = /^[0-9a-f]*$/;

export function parseHex(value: string, what = "value"): Hex {
  const v = value.trim().toLowerCase().replace(/^0x/, "");
  if (v.length % 2 !== 0 || !HEX_RE.test(v)) {
    throw new CloisterError("INVALID_HEX", `${what} is not an even-length hex string`);
  }
  return v as Hex;
}

export function parseNonce(value: string): Nonce {
  const v = parseHex(value, "nonce");
  if (v.length !== 64) throw new CloisterError("INVALID_NONCE", "nonce must be 32 bytes (64 hex characters)");
  return v as string as Nonce;
}

export function parseSha256(value: string): Sha256 {
  const v = parseHex(value, "sha256 digest");
  if (v.length !== 64) throw new CloisterError("INVALID_HEX", "sha256 digest must be 32 bytes");
  return v as string as Sha256;
}

export function parseMeasurement(value: string): Measurement {
  return parseHex(value, "measurement") as string as Measurement;
}

export function parseAddress(value: string): Address {
  const v = value.trim().toLowerCase();
  if (!/^0x[0-9a-f]{40}$/.test(v)) throw new CloisterError("INVALID_ADDRESS", "address must be 0x followed by 40 hex characters");
  return v as Address;
}

export function tokenAmount(value: bigint): TokenAmount {
  if (value < 0n) throw new CloisterError("INVALID_AMOUNT", "token amounts are never negative");
  return value as TokenAmount;
}
