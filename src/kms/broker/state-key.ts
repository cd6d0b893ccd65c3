/**
 * The key a broker seals its state with (registrations, shares, its identity keys).
 *
 * Intel TDX has no sealing key (unlike SGX's EGETKEY): a TD cannot derive a secret that
 * only the same measurement can derive again. So a TDX broker's state key must come from
 * outside the TD, given only to the attested TD:
 *  - `dstack`: dstack's guest agent GetKey (derived by the dstack KMS from the app's
 *    identity, released to the TD only after the KMS verified its quote). That ties the
 *    state to the app id, and inherits dstack's trust in its KMS root (see DESIGN.md).
 *  - `owner` (not implemented yet): the operator's or an owner's key, delivered after
 *    they attested the broker.
 *  - `file` (the simulator, and any machine without the above): a random key kept in a
 *    file beside the state. Whoever can read the data dir can read the shares. This is
 *    for development and is labelled SIMULATED wherever it is reported.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hkdfSync } from "node:crypto";
import { dstackRpc } from "../../tee/dstack.js";
import { KmsCode, KmsError } from "../codes.js";

export interface StateKey {
  readonly kind: "file" | "dstack";
  /** False only when the key comes from a hardware-rooted source. */
  readonly simulated: boolean;
  readonly description: string;
  readonly key: Buffer;
}

export function fileStateKey(path: string): StateKey {
  if (!existsSync(path)) writeFileSync(path, randomBytes(32).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
  const hex = readFileSync(path, "utf8").trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new KmsError(KmsCode.KMS_STATE_INVALID, `${path} does not hold a 32-byte hex state key`);
  return { kind: "file", simulated: true, description: `file ${path} (SIMULATED: anyone who reads the data dir reads the shares)`, key: Buffer.from(hex, "hex") };
}

/** dstack guest agent GetKey (dstack SDK: POST /GetKey {path, purpose} -> {key: hex, signature_chain}). */
export async function dstackStateKey(socketPath: string, timeoutMs = 30_000): Promise<StateKey> {
  const reply = await dstackRpc(socketPath, "/GetKey", { path: "cloister/kms/state", purpose: "state-sealing" }, timeoutMs);
  const key = typeof reply === "object" && reply !== null ? (reply as Record<string, unknown>)["key"] : undefined;
  if (typeof key !== "string" || !/^(0x)?[0-9a-fA-F]{64,}$/.test(key)) throw new KmsError(KmsCode.KMS_STATE_INVALID, "the dstack guest agent's GetKey answer has no key");
  // The agent's key is a secp256k1 secret for the app; derive a separate AES key from it.
  const derived = Buffer.from(hkdfSync("sha256", Buffer.from(key.replace(/^0x/, ""), "hex"), Buffer.alloc(0), Buffer.from("cloister/kms/v1 state-key"), 32));
  return { kind: "dstack", simulated: false, description: `dstack GetKey at ${socketPath} (derived by the dstack KMS for this app)`, key: derived };
}
