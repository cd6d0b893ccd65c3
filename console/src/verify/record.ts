/**
 * A shareable verification record: what this browser checked, when, against which nonce,
 * with the report itself inside (so anyone can re-run every check on it), signed with an
 * Ed25519 key this browser made and keeps (localStorage). Opening a record checks the
 * signature and re-verifies the enclosed report against the recorded nonce: a record
 * whose verdict does not follow from its report is shown as such.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { ReportVerification } from "../../../src/attest/report/result.js";
import { canonicalJson } from "../../../src/util/canonical-json.js";
import { fromHex, toHex, utf8 } from "../../../src/util/bytes.js";
import { verifyReportInBrowser, type BrowserPolicy } from "./report.js";

export const RECORD_VERSION = "cloister/console-verification/v1";
const KEY_SLOT = "cloister.console.recordKey";

export interface RecordBody {
  readonly version: typeof RECORD_VERSION;
  readonly node: string;
  readonly nonce: string;
  readonly verifiedAt: string;
  readonly verified: boolean;
  readonly simulated: boolean;
  readonly policy: BrowserPolicy;
  readonly checks: readonly { readonly name: string; readonly ok: boolean; readonly skipped: boolean; readonly code: string | null }[];
  readonly reportSha256: string;
  readonly report: unknown;
  readonly verifierKey: string;
}

export interface SignedRecord {
  readonly body: RecordBody;
  /** Ed25519 over canonical JSON of body, hex. */
  readonly signature: string;
}

function browserKey(): Uint8Array {
  const stored = globalThis.localStorage?.getItem(KEY_SLOT);
  if (stored && /^[0-9a-f]{64}$/.test(stored)) return fromHex(stored);
  const key = ed25519.utils.randomSecretKey();
  globalThis.localStorage?.setItem(KEY_SLOT, toHex(key));
  return key;
}

export function makeRecord(node: string, nonce: string, report: unknown, v: ReportVerification, policy: BrowserPolicy): SignedRecord {
  const secret = browserKey();
  const body: RecordBody = {
    version: RECORD_VERSION,
    node,
    nonce,
    verifiedAt: new Date().toISOString(),
    verified: v.verified,
    simulated: v.simulated,
    policy,
    checks: v.checks.map((c) => ({ name: c.name, ok: c.ok, skipped: c.skipped ?? false, code: c.code ?? null })),
    reportSha256: toHex(sha256(utf8.encode(canonicalJson(report)))),
    report,
    verifierKey: toHex(ed25519.getPublicKey(secret)),
  };
  return { body, signature: toHex(ed25519.sign(utf8.encode(canonicalJson(body)), secret)) };
}

export interface RecordCheck {
  readonly signatureOk: boolean;
  readonly reportHashOk: boolean;
  /** The enclosed report, re-verified here against the recorded nonce and policy. */
  readonly reverified: ReportVerification | null;
  /** The recorded verdict is what the report gives today (certificate dates aside). */
  readonly verdictConsistent: boolean;
}

export function checkRecord(rec: SignedRecord): RecordCheck {
  let signatureOk = false;
  try {
    signatureOk = ed25519.verify(fromHex(rec.signature), utf8.encode(canonicalJson(rec.body)), fromHex(rec.body.verifierKey));
  } catch {
    signatureOk = false;
  }
  const reportHashOk = toHex(sha256(utf8.encode(canonicalJson(rec.body.report)))) === rec.body.reportSha256;
  let reverified: ReportVerification | null = null;
  try {
    reverified = verifyReportInBrowser(rec.body.report, rec.body.nonce, rec.body.policy, new Date(rec.body.verifiedAt));
  } catch {
    reverified = null;
  }
  return { signatureOk, reportHashOk, reverified, verdictConsistent: reverified !== null && reverified.verified === rec.body.verified };
}

/** base64url of the record's JSON: goes in the link's fragment, which never reaches a server. */
export function encodeRecord(rec: SignedRecord): string {
  const bytes = utf8.encode(JSON.stringify(rec));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeRecord(text: string): SignedRecord | null {
  try {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const v = JSON.parse(utf8.decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)))) as SignedRecord;
    if (v?.body?.version !== RECORD_VERSION || typeof v.signature !== "string") return null;
    return v;
  } catch {
    return null;
  }
}
