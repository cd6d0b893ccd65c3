/**
 * The default report verifier: src/attest's, imported only when first needed so the
 * client's static module graph stays browser-safe (attest's X.509 checks use node:crypto;
 * a browser passes `verifyReport` instead).
 */
import { parseNonce } from "../types.js";
import type { UncheckedItem } from "../attest/types.js";
import type { ReportVerifier } from "./verifier.js";

// The names src/attest/types.ts UNCHECKED_ITEMS lists (kept here so the bundle gains no import).
const ITEMS: ReadonlySet<string> = new Set(["tcb", "gpu-rim", "gpu-ocsp"]);
const isUncheckedItem = (v: string): v is UncheckedItem => ITEMS.has(v);

export const defaultReportVerifier: ReportVerifier = async (report, opts) => {
  const [{ verifyAttestationReport }, { parsePolicy }] = await Promise.all([import("../attest/verify.js"), import("../attest/policy/schema.js")]);
  return verifyAttestationReport(report, {
    nonce: parseNonce(opts.nonce),
    allowSimulated: opts.allowSimulated,
    ...(opts.policy !== undefined ? { policy: parsePolicy(opts.policy) } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.acceptUnchecked?.length ? { acceptUnchecked: opts.acceptUnchecked.filter(isUncheckedItem) } : {}),
  });
};
