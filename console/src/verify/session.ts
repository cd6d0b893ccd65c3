/**
 * One verification as the pages share it: fetch the report with this browser's own nonce,
 * verify it here, keep the result (and the raw report) per node for the other pages.
 */
import type { ReportVerification } from "../../../src/attest/report/result.js";
import type { VerifiedReport } from "../../../src/client/verifier.js";
import { fetchReport, freshNonce } from "../api.js";
import { verifyReportInBrowser, type BrowserPolicy } from "./report.js";

export interface NodeVerification {
  readonly node: string;
  readonly nonce: string;
  readonly report: unknown;
  readonly result: ReportVerification;
  readonly at: Date;
}

export async function verifyNode(node: string, policy: BrowserPolicy): Promise<NodeVerification> {
  const nonce = freshNonce();
  const report = await fetchReport(node, nonce);
  return { node, nonce, report, result: verifyReportInBrowser(report, nonce, policy), at: new Date() };
}

/** The verifier the client (cloister/client) calls: this browser's, with the visitor's policy. */
export function browserReportVerifier(policy: BrowserPolicy): (report: unknown, opts: { nonce: string }) => Promise<VerifiedReport> {
  return async (report, opts) => {
    const v = verifyReportInBrowser(report, opts.nonce, policy);
    const measurements: Record<string, string> = {};
    for (const [k, m] of Object.entries(v.measurements)) measurements[k] = String(m);
    return { verified: v.verified, tee: v.tee, simulated: v.simulated, errors: v.errors, signingAddress: v.signingAddress, signingAlgo: v.signingAlgo, measurements, e2ePublicKey: v.e2ePublicKey };
  };
}
