/**
 * A Cloister report (cloister/attestation/v1) verified in the browser: the same checks as
 * src/attest/report/verify-cloister.ts, in the same order and with the same names, with
 * the quote's and the GPU's signatures checked by ./quote.ts and ./gpu.ts (noble) instead
 * of node:crypto. What this browser cannot check yet — Intel's TCB status (collateral), the
 * GPU's RIMs and OCSP — is a skipped check that FAILS unless the visitor accepts it by name;
 * SEV-SNP reports are refused; sigstore/measurement policies are not applied.
 */
import { AttestCode } from "../../../src/attest/codes.js";
import { checkAppIdentity, checkKeysBound } from "../../../src/attest/report/key-and-app-check.js";
import { finish, type ReportVerification } from "../../../src/attest/report/result.js";
import { cloisterReportSchema, parseWith } from "../../../src/attest/report/schema.js";
import { newState } from "../../../src/attest/report/state.js";
import { readTdQuoteFields } from "../../../src/attest/report/td-quote.js";
import { enforceUnchecked } from "../../../src/attest/report/unchecked.js";
import { AttestationError } from "../../../src/errors.js";
import { fromHex } from "../../../src/util/bytes.js";
import type { UncheckedItem } from "../../../src/attest/types.js";
import { checkGpuInBrowser } from "./gpu.js";
import { checkQuoteInBrowser } from "./quote.js";

/** Code of a check this browser could not run and the visitor did not accept. */
export const BROWSER_UNCHECKED = "BROWSER_UNCHECKED";

export interface BrowserPolicy {
  /** Accept the Cloister simulator (it proves nothing about hardware). */
  readonly allowSimulated: boolean;
  /** Accept that the platform's TCB status is not established here. */
  readonly acceptTcbUnchecked: boolean;
  /** Accept that the GPU's reference values (RIMs) and revocation (OCSP) are not checked here. */
  readonly acceptGpuUnchecked: boolean;
}

export const STRICT_POLICY: BrowserPolicy = { allowSimulated: false, acceptTcbUnchecked: false, acceptGpuUnchecked: false };

const clean = (h: string): string => h.toLowerCase().replace(/^0x/, "");

export function verifyReportInBrowser(value: unknown, nonce: string, policy: BrowserPolicy, now: Date = new Date()): ReportVerification {
  const s = newState();
  let r;
  try {
    r = parseWith(cloisterReportSchema, value, "Cloister report");
  } catch (e) {
    s.list.fail("report parses", e instanceof AttestationError ? e.code : AttestCode.EVIDENCE_UNREADABLE, e instanceof Error ? e.message : "not a Cloister report");
    return finish(s);
  }
  s.list.pass("report parses", `${r.version}, tee ${r.tee}${r.simulated ? " (SIMULATED)" : ""}`);
  s.signingAddress = r.signing_address.toLowerCase();
  s.signingAlgo = r.signing_algo;
  s.signingPublicKey = clean(r.signing_public_key);
  s.e2ePublicKey = clean(r.e2e_public_key);
  if (clean(r.request_nonce) === nonce) s.list.pass("nonce", "the report answers our nonce");
  else s.list.fail("nonce", AttestCode.NONCE_MISMATCH, `the report answers nonce ${r.request_nonce}, not ours`);

  let rtmrs: readonly string[] | null = null;
  if (r.intel_quote) {
    const quote = fromHex(r.intel_quote);
    const q = checkQuoteInBrowser(s.list, quote, now);
    if (q) {
      s.tee = q.simulated ? "simulated" : q.tee;
      s.simulated = q.simulated;
      s.reportData = q.reportData as ReportVerification["reportData"];
      Object.assign(s.measurements, q.measurements);
      try {
        rtmrs = readTdQuoteFields(quote).rtmrs;
      } catch {
        rtmrs = null;
      }
      if (q.simulated && !policy.allowSimulated) {
        s.list.fail("not simulated", AttestCode.SIMULATED_NOT_ALLOWED, "the quote is signed by the Cloister SIMULATED root: it proves nothing");
      } else if (q.simulated) {
        s.list.notChecked("hardware root", "SIMULATED evidence accepted: it proves nothing about hardware");
      }
      // Intel's collateral (TCB Info, QE Identity, CRLs) is not evaluated in the browser yet.
      s.list.notChecked("TCB status", q.simulated ? "simulated platform: there is no real TCB to check" : "this browser does not evaluate Intel's TCB collateral yet", "tcb");
    }
  } else if (r.snp_report) {
    s.list.fail("hardware evidence", BROWSER_UNCHECKED, "AMD SEV-SNP reports are not checked in the browser yet: use `cloister verify`");
  } else {
    s.list.fail("hardware evidence", AttestCode.EVIDENCE_UNREADABLE, "the report has neither intel_quote nor snp_report");
  }
  checkKeysBound(s, r, nonce);
  if (rtmrs) checkAppIdentity(s, r, rtmrs);
  if (r.nvidia_payload === null) s.list.notChecked("GPU", "the report has no GPU evidence");
  else checkGpuInBrowser(s, r.nvidia_payload, nonce, policy.allowSimulated, now);
  const accepted: UncheckedItem[] = [...(policy.acceptTcbUnchecked ? (["tcb"] as const) : []), ...(policy.acceptGpuUnchecked ? (["gpu-rim", "gpu-ocsp"] as const) : [])];
  return enforceUnchecked(finish(s), accepted);
}
