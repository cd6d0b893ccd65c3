import { AttestCode } from "../codes.js";
import { verifySnpReport } from "../snp/index.js";
import type { Verification } from "../types.js";
import type { ReportVerifyOptions } from "./options.js";
import type { ReportState } from "./result.js";

/** AMD SEV-SNP report + VCEK/VLEK chain (src/attest/snp); TDX-only checks do not apply. */
export function checkSnpEvidence(s: ReportState, report: Uint8Array, certChainPem: string | null, opts: ReportVerifyOptions, crlDer?: Uint8Array): Verification | null {
  s.tee = "sev-snp";
  if (!certChainPem) {
    s.list.fail("SNP certificate chain", AttestCode.CERT_CHAIN_INVALID, "the report has an SNP report but no VCEK/VLEK chain");
    return null;
  }
  // The policy may widen the strict defaults (VMPL 0, no migration agent) for SVSM deployments.
  const v = verifySnpReport(report, { certChainPem, ...(opts.now ? { now: opts.now } : {}), ...opts.policy?.snp, ...(crlDer ? { crlDer } : {}) });
  s.list.merge(v);
  s.tcbStatus = v.tcbStatus;
  s.advisories = [...v.advisories];
  s.reportData = v.reportData;
  if (v.simulated) s.simulated = true;
  Object.assign(s.measurements, v.measurements);
  return v;
}
