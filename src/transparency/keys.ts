/**
 * Ed25519 key files for logs and release signers: 32 random bytes as hex, mode 0600,
 * never printed. Only public keys and note verifier keys are shown.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fromHex, toHex } from "../util/bytes.js";
import { TransparencyCode, TransparencyError } from "./errors.js";

export function createKeyFile(path: string): Uint8Array {
  if (existsSync(path)) throw new TransparencyError(TransparencyCode.NOTE_INVALID, `${path} exists: refusing to overwrite a key`);
  const seed = ed25519.utils.randomSecretKey();
  writeFileSync(path, `${toHex(seed)}\n`, { mode: 0o600, flag: "wx" });
  return seed;
}

export function readKeyFile(path: string): Uint8Array {
  const seed = fromHex(readFileSync(path, "utf8").trim());
  if (seed.length !== 32) throw new TransparencyError(TransparencyCode.NOTE_INVALID, `${path} does not hold a 32-byte Ed25519 key`);
  return seed;
}

export function publicKeyHex(seed: Uint8Array): string {
  return toHex(ed25519.getPublicKey(seed));
}
