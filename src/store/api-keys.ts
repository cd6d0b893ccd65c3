/**
 * API keys: `sk-cloister-<base64url of 32 random bytes>`, shown once, stored only as the
 * SHA-256 of the whole key string. 256 bits of entropy make a fast hash sufficient (no
 * password-stretching needed: there is nothing to brute-force).
 */
import { createHash, randomBytes } from "node:crypto";

export const API_KEY_PREFIX = "sk-cloister-";

export function generateApiKey(): { key: string; id: string; hash: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  return { key, id: `key_${randomBytes(6).toString("hex")}`, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}
