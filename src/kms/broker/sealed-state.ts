/**
 * The broker's state on disk, sealed under its state key (state-key.ts):
 *   "CLKMSST1" ‖ nonce (12) ‖ AES-256-GCM(state_key, nonce, aad = "cloister/kms/state/v1", JSON) ‖ tag (16)
 * Written to a temporary file, fsynced and renamed, so a crash leaves the old state or the
 * new one, never half of each.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { KmsCode, KmsError } from "../codes.js";

const MAGIC = Buffer.from("CLKMSST1", "ascii");
const AAD = Buffer.from("cloister/kms/state/v1", "utf8");

export function saveSealedState(path: string, key: Buffer, state: unknown): void {
  const nonce = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, nonce);
  c.setAAD(AAD);
  const body = Buffer.concat([c.update(Buffer.from(JSON.stringify(state), "utf8")), c.final(), c.getAuthTag()]);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, Buffer.concat([MAGIC, nonce, body]));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** The state, or null when there is none yet. Throws KMS_STATE_INVALID when it does not open. */
export function loadSealedState(path: string, key: Buffer): unknown {
  if (!existsSync(path)) return null;
  const raw = readFileSync(path);
  if (raw.length < MAGIC.length + 12 + 16 || !raw.subarray(0, 8).equals(MAGIC)) throw new KmsError(KmsCode.KMS_STATE_INVALID, `${path} is not a sealed broker state`);
  const d = createDecipheriv("aes-256-gcm", key, raw.subarray(8, 20));
  d.setAAD(AAD);
  d.setAuthTag(raw.subarray(raw.length - 16));
  try {
    const plain = Buffer.concat([d.update(raw.subarray(20, raw.length - 16)), d.final()]);
    return JSON.parse(plain.toString("utf8")) as unknown;
  } catch (cause) {
    throw new KmsError(KmsCode.KMS_STATE_INVALID, `${path} does not open with this state key (another key, or altered)`, { cause });
  }
}
