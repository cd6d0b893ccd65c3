/**
 * The owner's side of the key brokers, one copy for `cloister model upload|update|register
 * --chain` and `cloister data key upload`: which brokers (--kms), how each is attested
 * before it receives anything (--kms-policy, --allow-simulated-kms), and the owner's
 * secret and JSON files.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { BrokerTrust } from "../kms/attest-broker.js";
import { KmsCode, KmsError } from "../kms/codes.js";

export const KMS_OWNER_OPTIONS = {
  kms: { type: "string" },
  "kms-policy": { type: "string" },
  "allow-simulated-kms": { type: "boolean" },
} as const;

export interface KmsOwnerFlags {
  readonly kms?: string | undefined;
  readonly "kms-policy"?: string | undefined;
  readonly "allow-simulated-kms"?: boolean | undefined;
}

/** --kms URL,URL,...: the brokers, in share order (share i goes to broker i). */
export function kmsUrls(v: KmsOwnerFlags, command: string): string[] {
  const urls = (v.kms ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (urls.length === 0) throw new KmsError(KmsCode.KMS_BAD_REQUEST, `${command} needs --kms URL,URL,...`);
  return urls;
}

/** How a broker must attest before it gets a share: --kms-policy FILE, --allow-simulated-kms. */
export function brokerTrust(v: KmsOwnerFlags, cwd: string): BrokerTrust {
  return { ...(v["kms-policy"] ? { policy: readJsonFile(resolve(cwd, v["kms-policy"])) } : {}), allowSimulated: v["allow-simulated-kms"] === true };
}

export function readHexFile(path: string, bytes: number, what: string): Uint8Array {
  const hex = readFileSync(path, "utf8").trim();
  if (!new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(hex)) throw new KmsError(KmsCode.KMS_BAD_REQUEST, `${path} does not hold a ${what} (${bytes} bytes of hex)`);
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

export function readJsonFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as unknown;
  } catch (cause) {
    throw new KmsError(KmsCode.KMS_BAD_REQUEST, `${path} is not a readable JSON file`, { cause });
  }
}
