/**
 * Test helper: loads the genuine Intel vectors from ../shared/vectors (never copied into
 * the repo). Returns null when ../shared is missing so suites can skip loudly.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sharedPath } from "../../util/shared.js";
import { fromHex } from "../../util/bytes.js";
import type { Collateral } from "./collateral.js";
import { parseCollateral } from "./collateral.js";

export const INTEL_DIR = sharedPath("vectors", "intel-dcap");
export const GOOGLE_DIR = sharedPath("vectors", "google-tdx");

export function intelFile(name: string): Uint8Array {
  if (!INTEL_DIR) throw new Error("../shared/vectors/intel-dcap is missing");
  const raw = readFileSync(join(INTEL_DIR, name));
  return name.endsWith(".hex") || name.endsWith(".txt") ? fromHex(raw.toString("utf8").trim()) : new Uint8Array(raw);
}

export function googleFile(name: string): Uint8Array {
  if (!GOOGLE_DIR) throw new Error("../shared/vectors/google-tdx is missing");
  return new Uint8Array(readFileSync(join(GOOGLE_DIR, name)));
}

export function intelCollateral(name: string): Collateral {
  if (!INTEL_DIR) throw new Error("../shared/vectors/intel-dcap is missing");
  return parseCollateral(JSON.parse(readFileSync(join(INTEL_DIR, name), "utf8")));
}

/** Genuine quote + collateral + a time at which the pair verifies (vectors README). */
export const CASES = {
  tdx: { quote: "tdx_quote", collateral: "tdx_quote_collateral.json", now: new Date("2025-07-01T00:00:00Z") },
  sgx: { quote: "sgx_quote", collateral: "sgx_quote_collateral.json", now: new Date("2025-07-01T00:00:00Z") },
  near: { quote: "near_quote_hex.txt", collateral: "near_quote_collateral.json", now: new Date("2025-09-15T00:00:00Z") },
  outdated: { quote: "tdx_quote_outdated", collateral: "tdx_quote_outdated_collateral.json", now: new Date("2026-03-01T00:00:00Z") },
} as const;

/** A copy with one bit flipped at `offset`. */
export function flip(bytes: Uint8Array, offset: number, mask = 0x01): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[offset] = (out[offset] ?? 0) ^ mask;
  return out;
}

/** Flips one hex digit of a hex string at character `i` (stays valid hex). */
export function flipHex(hex: string, i: number): string {
  const c = hex[i] ?? "0";
  return hex.slice(0, i) + (c === "0" ? "1" : "0") + hex.slice(i + 1);
}
