/**
 * The broker's release log: one JSON line per event (share uploaded, registration
 * updated, share released, release refused), append-only and hash-chained, each line
 * signed by the broker's attested key:
 *   line      = {"entry": "<entry JSON>", "signature": "<hex>"}
 *   entry     = {seq, time, prev, broker, event, model_id, ...}; prev = SHA-256 hex of the previous line ("" for the first)
 *   signature = EIP-191 secp256k1 over "cloister/kms/v1 log\n" ‖ entry JSON
 * Anyone holding the log and the broker's attested address can check that nothing was
 * removed or rewritten (verifyReleaseLog). Entries carry no key material.
 */
import { createHash } from "node:crypto";
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync } from "node:fs";
import { recoverAddress, type Signer } from "../../seal/signing.js";
import { KmsCode, KmsError } from "../codes.js";
import type { OnSigned } from "../../transparency/signed-hook.js";

export type LogEvent = "upload" | "register" | "release" | "refuse";

export interface LogEntry {
  readonly seq: number;
  readonly time: string;
  readonly prev: string;
  readonly broker: string;
  readonly event: LogEvent;
  readonly model_id: string;
  readonly [field: string]: unknown;
}

const LOG_PREFIX = "cloister/kms/v1 log\n";
const lineHash = (line: string): string => createHash("sha256").update(line, "utf8").digest("hex");

export interface ReleaseLog {
  append(fields: { event: LogEvent; model_id: string } & Record<string, unknown>): LogEntry;
  text(): string;
}

/** `onSigned` (src/transparency/signed-hook.ts) hears of every signed key release: the broker's receipt log. */
export function openReleaseLog(path: string, signer: Signer, now: () => Date = () => new Date(), onSigned?: OnSigned): ReleaseLog {
  let seq = 0;
  let prev = "";
  if (existsSync(path)) {
    const entries = verifyReleaseLog(readFileSync(path, "utf8"));
    const last = entries.at(-1);
    if (last) {
      seq = last.entry.seq;
      prev = last.hash;
    }
  }
  return {
    append(fields) {
      const entry: LogEntry = { ...fields, seq: seq + 1, time: now().toISOString(), prev, broker: signer.address };
      const text = JSON.stringify(entry);
      const signature = signer.sign(LOG_PREFIX + text);
      const line = JSON.stringify({ entry: text, signature });
      const fd = openSync(path, "a", 0o600);
      try {
        appendFileSync(fd, `${line}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      seq = entry.seq;
      prev = lineHash(line);
      if (entry.event === "release") onSigned?.({ kind: "key-release", id: String(entry.seq), text: LOG_PREFIX + text, signature });
      return entry;
    },
    text: () => (existsSync(path) ? readFileSync(path, "utf8") : ""),
  };
}

/** Checks every signature and the hash chain; returns the entries. Throws KMS_STATE_INVALID on any break. */
export function verifyReleaseLog(text: string, brokerAddress?: string): { entry: LogEntry; hash: string }[] {
  const out: { entry: LogEntry; hash: string }[] = [];
  let prev = "";
  for (const [i, line] of text.split("\n").filter((l) => l.length > 0).entries()) {
    let entry: LogEntry;
    try {
      const l = JSON.parse(line) as { entry: string; signature: string };
      entry = JSON.parse(l.entry) as LogEntry;
      const signer = recoverAddress(LOG_PREFIX + l.entry, l.signature);
      if (signer !== entry.broker || (brokerAddress !== undefined && signer !== brokerAddress.toLowerCase())) throw new Error("signer");
    } catch (cause) {
      throw new KmsError(KmsCode.KMS_STATE_INVALID, `release log line ${i + 1} is not a signed entry of this broker`, { cause });
    }
    if (entry.seq !== i + 1 || entry.prev !== prev) throw new KmsError(KmsCode.KMS_STATE_INVALID, `release log line ${i + 1} breaks the chain (an entry was removed or reordered)`);
    prev = lineHash(line);
    out.push({ entry, hash: prev });
  }
  return out;
}
