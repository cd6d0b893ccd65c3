/**
 * The report verifier a browser page would inject, here run on the host (it is src/attest,
 * Node-only): answers as plain JSON (strings, booleans) so it crosses a realm or a page
 * boundary unchanged.
 */
import { parseNonce } from "../../src/types.js";
import { verifyAttestationReport } from "../../src/attest/verify.js";

export interface PlainVerifiedReport {
  readonly verified: boolean;
  readonly tee: string;
  readonly simulated: boolean;
  readonly errors: { code: string; message: string }[];
  readonly signingAddress: string | null;
  readonly signingAlgo: string | null;
  readonly e2ePublicKey: string | null;
}

export async function hostVerifyReport(report: unknown, opts: { nonce: string; allowSimulated: boolean }): Promise<PlainVerifiedReport> {
  const v = await verifyAttestationReport(report, { nonce: parseNonce(opts.nonce), allowSimulated: opts.allowSimulated });
  return {
    verified: v.verified,
    tee: v.tee,
    simulated: v.simulated,
    errors: v.errors.map((e) => ({ code: e.code, message: e.message })),
    signingAddress: v.signingAddress,
    signingAlgo: v.signingAlgo,
    e2ePublicKey: v.e2ePublicKey,
  };
}
