/**
 * Canonical JSON (RFC 8785 subset: sorted keys, no whitespace, JSON.stringify's number
 * and string forms) so that a manifest, a scanner report or a receipt hashes to the same
 * digest wherever it is re-serialised. Only plain data (no undefined, no NaN) goes in.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { Sha256 } from "../types.js";
import { toHex, utf8 } from "../util/bytes.js";

export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("canonical JSON has no NaN or Infinity");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}

export function sha256Hex(data: Uint8Array | string): Sha256 {
  return toHex(sha256(typeof data === "string" ? utf8.encode(data) : data)) as string as Sha256;
}

export function hashJson(value: unknown): Sha256 {
  return sha256Hex(canonicalJson(value));
}
