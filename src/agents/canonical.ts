/**
 * Canonical JSON (RFC 8785 subset: sorted keys, no whitespace, JSON.stringify's number
 * and string forms) so that a manifest, a scanner report or a receipt hashes to the same
 * digest wherever it is re-serialised. Only plain data (no undefined, no NaN) goes in.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { Sha256 } from "../types.js";
import { toHex, utf8 } from "../util/bytes.js";
import { canonicalJson } from "../util/canonical-json.js";

export { canonicalJson, type Json } from "../util/canonical-json.js";

export function sha256Hex(data: Uint8Array | string): Sha256 {
  return toHex(sha256(typeof data === "string" ? utf8.encode(data) : data)) as string as Sha256;
}

export function hashJson(value: unknown): Sha256 {
  return sha256Hex(canonicalJson(value));
}
