/**
 * Before an owner uploads a share, or a node sends its evidence, it attests the broker
 * with the verifying client's own code (src/client attestNode: our nonce, full
 * verification, the caller's policy) and keeps exactly the keys the quote binds.
 */
import { attestNode, type PinnedNode } from "../client/attestation.js";
import { defaultReportVerifier } from "../client/default-verifier.js";
import type { ReportVerifier } from "../client/verifier.js";
import { isCloisterError } from "../errors.js";
import { KmsCode, KmsError } from "./codes.js";

export interface BrokerTrust {
  /** Policy (src/attest policy JSON) the broker's report must satisfy. */
  readonly policy?: unknown;
  /** Accept brokers on the simulator (development only). */
  readonly allowSimulated: boolean;
  readonly fetch?: typeof fetch;
  readonly verifyReport?: ReportVerifier;
}

export const brokerBase = (url: string): string => url.replace(/\/+$/, "");

export async function attestBroker(url: string, trust: BrokerTrust): Promise<PinnedNode> {
  try {
    const pinned = await attestNode({
      baseURL: `${brokerBase(url)}/v1`,
      fetch: trust.fetch ?? fetch,
      verifyReport: trust.verifyReport ?? defaultReportVerifier,
      ...(trust.policy !== undefined ? { policy: trust.policy } : {}),
      allowSimulated: trust.allowSimulated,
      signingAlgo: "ecdsa",
    });
    return pinned;
  } catch (cause) {
    throw new KmsError(KmsCode.KMS_BROKER_UNAVAILABLE, `broker ${url} could not be attested: ${isCloisterError(cause) ? `${cause.code}: ${cause.message}` : String(cause)}`, { cause });
  }
}

/** POSTs JSON to a broker; a broker's error body becomes a KmsError with its code. */
export async function postBroker(url: string, path: string, body: unknown, f: typeof fetch = fetch): Promise<unknown> {
  let res: Response;
  try {
    res = await f(`${brokerBase(url)}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  } catch (cause) {
    throw new KmsError(KmsCode.KMS_BROKER_UNAVAILABLE, `broker ${url} is unreachable`, { cause });
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KmsError(KmsCode.KMS_RESPONSE_INVALID, `broker ${url} answered HTTP ${res.status} without JSON`);
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
    const code = typeof err?.code === "string" ? err.code.toUpperCase() : "";
    const known = (Object.values(KmsCode) as string[]).includes(code) ? (code as KmsCode) : KmsCode.KMS_RESPONSE_INVALID;
    throw new KmsError(known, `broker ${url}: ${typeof err?.message === "string" ? err.message : `HTTP ${res.status}`}`, {
      status: res.status,
      details: { broker: url, ...(err?.details && typeof err.details === "object" ? (err.details as Record<string, unknown>) : {}) },
    });
  }
  return json;
}
