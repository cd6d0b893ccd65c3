/**
 * Attest once, pin the keys: fetch GET /v1/attestation/report with a fresh random nonce,
 * have the verifier check quote, chain, policy and key binding, and keep exactly the keys
 * it vouched for. Nothing of the caller's is sent before this succeeds.
 */
import { ClientError } from "../errors.js";
import { e2eKeyId } from "../seal/e2e/suite.js";
import { fromHex, toHex } from "../util/bytes.js";
import { ClientCode } from "./codes.js";
import { checkPins, policyPins, UNPINNED_SIMULATED_WARNING, UNPINNED_WARNING, type PinStore } from "./pins.js";
import type { ReportVerifier, VerifiedReport } from "./verifier.js";

export type SigningAlgo = "ecdsa" | "ed25519";

/** What the client trusts after a successful attestation. */
export interface PinnedNode {
  readonly tee: string;
  readonly simulated: boolean;
  /** Lower-case 0x address (ecdsa) or hex ed25519 public key. */
  readonly signingAddress: string;
  readonly signingAlgo: SigningAlgo;
  readonly e2ePublicKey: Uint8Array;
  /** SHA-256 of the E2E key, hex: what a sealed request names. */
  readonly e2eKeyId: string;
  /** Our nonce for this attestation, hex. */
  readonly nonce: string;
  /** Epoch ms. */
  readonly verifiedAt: number;
  readonly verification: VerifiedReport;
}

export interface AttestOptions {
  readonly baseURL: string;
  readonly fetch: typeof fetch;
  readonly verifyReport: ReportVerifier;
  readonly policy?: unknown;
  readonly allowSimulated: boolean;
  readonly signingAlgo: SigningAlgo;
  readonly headers?: HeadersInit;
  readonly now?: () => number;
  /** Unchecked items accepted by name (TCB status, GPU RIMs, GPU OCSP); default none: each fails. */
  readonly acceptUnchecked?: readonly string[];
  /** Trust-on-first-use store of measurements; without it (and a pinning policy) every attestation warns. */
  readonly pins?: PinStore;
  /** Where warnings go (no measurement pinned, pinned on first use); default console.warn. */
  readonly onWarning?: (message: string) => void;
}

export function apiURL(baseURL: string, path: string): string {
  return `${baseURL.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

export async function attestNode(opts: AttestOptions): Promise<PinnedNode> {
  const nonce = toHex(crypto.getRandomValues(new Uint8Array(32)));
  const url = apiURL(opts.baseURL, `attestation/report?nonce=${nonce}&signing_algo=${opts.signingAlgo}`);
  let res: Response;
  try {
    res = await opts.fetch(url, { method: "GET", headers: opts.headers ?? {} });
  } catch (cause) {
    if (cause instanceof ClientError) throw cause; // e.g. REDIRECT_REFUSED
    throw new ClientError(ClientCode.ATTESTATION_UNAVAILABLE, `could not fetch the attestation report from ${url}`, { cause });
  }
  if (!res.ok) throw new ClientError(ClientCode.ATTESTATION_UNAVAILABLE, `the attestation report request failed with HTTP ${res.status}`);
  let report: unknown;
  try {
    report = JSON.parse(await res.text());
  } catch (cause) {
    throw new ClientError(ClientCode.ATTESTATION_FAILED, "the attestation report is not valid JSON", { cause });
  }
  if (!isRecord(report)) throw new ClientError(ClientCode.ATTESTATION_FAILED, "the attestation report is not a JSON object");

  // Cheap, independent freshness checks before the expensive verification: a replayed
  // report names someone else's nonce in both the echo and report_data[32:64].
  if (String(report["request_nonce"] ?? "").toLowerCase() !== nonce) {
    throw new ClientError(ClientCode.NONCE_MISMATCH, "the attestation report answers another nonce (a replayed, stale report)");
  }
  const rd = String(report["report_data"] ?? "").toLowerCase();
  if (rd.length === 128 && rd.slice(64) !== nonce) {
    throw new ClientError(ClientCode.NONCE_MISMATCH, "report_data does not carry our nonce (a replayed, stale report)");
  }

  const now = opts.now?.() ?? Date.now();
  let v: VerifiedReport;
  try {
    v = await opts.verifyReport(report, { nonce, policy: opts.policy, allowSimulated: opts.allowSimulated, now: new Date(now), ...(opts.acceptUnchecked ? { acceptUnchecked: opts.acceptUnchecked } : {}) });
  } catch (cause) {
    throw new ClientError(ClientCode.ATTESTATION_FAILED, `the attestation report could not be verified: ${messageOf(cause)}`, { cause });
  }
  if (!v.verified || v.errors.length > 0) throw failure(v);

  const signingAlgo = (v.signingAlgo ?? report["signing_algo"]) as SigningAlgo;
  const signingAddress = String(v.signingAddress ?? "").toLowerCase();
  const e2ePublicKey = typeof v.e2ePublicKey === "string" ? fromHex(v.e2ePublicKey) : v.e2ePublicKey;
  if (!signingAddress || !e2ePublicKey || e2ePublicKey.length !== 32) {
    throw new ClientError(ClientCode.ATTESTATION_FAILED, "the verifier did not vouch for a signing address and a 32-byte E2E key");
  }
  if (signingAlgo !== opts.signingAlgo) {
    throw new ClientError(ClientCode.ATTESTATION_FAILED, `asked for ${opts.signingAlgo} signatures, the node attested ${String(signingAlgo)}`);
  }
  // The verifier's keys are the attested ones; the JSON's must be the same or someone edited them.
  if (String(report["signing_address"] ?? "").toLowerCase() !== signingAddress || String(report["e2e_public_key"] ?? "").toLowerCase() !== toHex(e2ePublicKey)) {
    throw new ClientError(ClientCode.REPORT_SWAPPED, "the report's keys differ from the ones its quote binds");
  }
  // A genuine TEE is not yet a known program: pin (policy or first use), or say so every time.
  const warn = opts.onWarning ?? ((m: string) => console.warn(`cloister: ${m}`));
  // A release proven in the release log names the code; otherwise say so every time.
  const released = (v as { release?: unknown }).release !== undefined;
  if (opts.pins) await checkPins(opts.pins, opts.baseURL, v.measurements ?? {}, warn, new Date(now));
  else if (!released && !policyPins(opts.policy)) warn(v.simulated ? UNPINNED_SIMULATED_WARNING : UNPINNED_WARNING);
  return {
    tee: v.tee,
    simulated: v.simulated,
    signingAddress,
    signingAlgo,
    e2ePublicKey,
    e2eKeyId: e2eKeyId(e2ePublicKey),
    nonce,
    verifiedAt: now,
    verification: v,
  };
}

function failure(v: VerifiedReport): ClientError {
  const codes = v.errors.map((e) => e.code);
  const first = v.errors[0];
  const summary = first ? `${first.code}: ${first.message}` : "not verified";
  const details = { attestCodes: codes };
  if (codes.includes("NONCE_MISMATCH")) return new ClientError(ClientCode.NONCE_MISMATCH, `the attestation does not bind our nonce (${summary})`, { details });
  if (codes.includes("LOG_FORKED") || codes.includes("LOG_ROLLED_BACK")) {
    return new ClientError(ClientCode.RELEASE_LOG_FORKED, `the release log is not consistent with the checkpoint this client saw before (${summary}): keep that checkpoint as evidence`, { details });
  }
  if (codes.includes("REPORT_DATA_MISMATCH")) return new ClientError(ClientCode.REPORT_SWAPPED, `the report's keys are not the ones its quote binds (${summary})`, { details });
  return new ClientError(ClientCode.ATTESTATION_FAILED, `the attestation report did not verify (${summary})`, { details });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
