/**
 * The TDX half of every report kind (Cloister, NEAR, dstack): verify the quote (offline
 * signatures, or full DCAP with collateral), recognise the simulated root, replay the
 * event log into the RTMRs and read the app identity out of RTMR3.
 */
import { AttestationError } from "../../errors.js";
import type { Measurement } from "../../types.js";
import { AttestCode } from "../codes.js";
import { INTEL_SGX_ROOT_CA_PEM, verifyDcapQuote, verifyQuoteSignatures } from "../intel/index.js";
import { SIMULATED_QUOTE_ROOTS_PEM } from "../simulator/roots.js";
import type { Verification } from "../types.js";
import type { ReportVerifyOptions } from "./options.js";
import type { ReportState } from "./result.js";

/** Verifies the quote and records its checks, registers and report_data into the state. */
export async function checkTdxQuote(s: ReportState, quote: Uint8Array, opts: ReportVerifyOptions, prefix?: string): Promise<Verification> {
  const now = opts.now ?? new Date();
  // Both roots: a quote that chains to the simulated one verifies and is marked simulated.
  let v = verifyQuoteSignatures(quote, { trustedRootsPem: [INTEL_SGX_ROOT_CA_PEM, ...SIMULATED_QUOTE_ROOTS_PEM], now });
  if (v.simulated) {
    // Same path as hardware: simulated collateral (signed under the simulated root) gives a
    // simulated TCB status; without it the TCB status is unchecked, like a real quote's.
    s.simulated = true;
    s.tee = "simulated";
    const collateral = opts.collateral;
    if (collateral && v.verified) v = verifyDcapQuote(quote, { collateral, now, trustedRootsPem: SIMULATED_QUOTE_ROOTS_PEM });
  } else {
    let collateral = opts.collateral;
    if (!collateral && opts.fetchCollateral && v.verified) {
      try {
        collateral = await opts.fetchCollateral(quote);
      } catch (e) {
        s.list.fail(label(prefix, "collateral fetch"), e instanceof AttestationError ? e.code : AttestCode.COLLATERAL_FETCH_FAILED, e instanceof Error ? e.message : String(e));
      }
    }
    if (collateral) v = verifyDcapQuote(quote, { collateral, now });
    else {
      // Say what the user can do about it, in the caller's terms.
      v = { ...v, checks: v.checks.map((c) => (c.name === "TCB status" && c.skipped ? { ...c, detail: "not checked: needs Intel collateral (TCB Info, QE Identity, CRLs); pass --collateral FILE" } : c)) };
    }
    if (s.tee !== "simulated") s.tee = v.tee;
  }
  s.list.merge(v, prefix);
  if (v.simulated && !opts.allowSimulated) {
    s.list.fail(label(prefix, "not simulated"), AttestCode.SIMULATED_NOT_ALLOWED, "the quote is signed by the Cloister SIMULATED root: it proves nothing (pass --allow-simulated to accept it)");
  } else if (v.simulated) {
    s.list.notChecked(label(prefix, "hardware root"), "SIMULATED evidence accepted (--allow-simulated): it proves nothing about hardware");
  }
  if (!prefix) {
    s.tcbStatus = v.tcbStatus;
    s.advisories = [...v.advisories];
    s.reportData = v.reportData;
  }
  Object.assign(s.measurements, prefixed(v.measurements, prefix));
  return v;
}

function label(prefix: string | undefined, name: string): string {
  return prefix ? `${prefix}: ${name}` : name;
}

function prefixed(m: Readonly<Record<string, Measurement>>, prefix: string | undefined): Record<string, Measurement> {
  if (!prefix) return { ...m };
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [`${prefix}.${k}`, v]));
}

// The event-log and compose-hash checks need no node:crypto; they live in their own module
// so the browser console (console/) runs the very same code.
export { checkComposeHash, checkEventLog } from "./event-log-check.js";
