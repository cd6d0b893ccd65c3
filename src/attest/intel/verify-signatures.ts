/**
 * verifyQuoteSignatures: everything about a DCAP quote that can be checked without
 * collateral (PCK chain, QE report, attestation key binding, quote signature). Used for
 * NEAR AI reports (which carry no collateral), by the simulator (whose TDX-format quotes
 * chain to a "Cloister simulated root" passed in trustedRootsPem), and as the first
 * stage of verifyDcapQuote. The TCB status needs collateral and is reported as skipped.
 */
import { AttestationError } from "../../errors.js";
import { toHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { CheckList, type Verification } from "../types.js";
import { trustedRoots } from "./certs.js";
import { quoteMeasurements } from "./measurements.js";
import { parseQuote } from "./parse-quote.js";
import type { ParsedQuote } from "./quote-types.js";
import { checkNotDebug } from "./debug.js";
import { checkIntelQe } from "./qe-pin.js";
import { checkQuoteSignatures, failWith } from "./signatures.js";

export interface QuoteSignatureOptions {
  /** PEM roots to accept; default: Intel SGX Root CA only. Matched by public key. */
  readonly trustedRootsPem?: readonly string[];
  /** Time for certificate validity; default: the current time. */
  readonly now?: Date;
}

export function verifyQuoteSignatures(bytes: Uint8Array, options: QuoteSignatureOptions = {}): Verification {
  const list = new CheckList();
  const q = parseOrFail(bytes, list);
  if (!q) return unparsed(bytes, list);
  const roots = trustedRoots(options.trustedRootsPem);
  const { chain } = checkQuoteSignatures(q, roots, options.now ?? new Date(), list);
  // Without collateral there is no signed QE Identity: pin Intel's QE ourselves, and refuse
  // debuggable TDs/enclaves here too (verifyDcapQuote does both with collateral).
  offline(list, "QE is Intel's quoting enclave", () => checkIntelQe(q), AttestCode.QE_IDENTITY_MISMATCH);
  offline(list, "not debuggable", () => checkNotDebug(q), AttestCode.DEBUG_ENABLED);
  list.notChecked("TCB status", "needs Intel collateral (TCB info, QE identity, CRLs); use verifyDcapQuote", "tcb");
  return verificationOf(q, list, null, [], chain !== null && !chain.intel);
}

function offline(list: CheckList, name: string, fn: () => void, fallback: string): void {
  try {
    fn();
    list.pass(name);
  } catch (e) {
    failWith(list, name, e, fallback);
  }
}

/** Parses, recording the outcome as the first check; null when the quote is unreadable. */
export function parseOrFail(bytes: Uint8Array, list: CheckList): ParsedQuote | null {
  try {
    const q = parseQuote(bytes);
    list.pass("quote parses", `${q.tee} quote v${q.header.version}, body type ${q.bodyType}`);
    return q;
  } catch (e) {
    if (e instanceof AttestationError) list.fail("quote parses", e.code, e.message);
    else list.fail("quote parses", AttestCode.QUOTE_MALFORMED, "the quote could not be read");
    return null;
  }
}

export function verificationOf(
  q: ParsedQuote,
  list: CheckList,
  tcbStatus: string | null,
  advisories: readonly string[],
  simulated: boolean,
): Verification {
  return {
    verified: list.ok,
    tee: q.tee,
    simulated,
    tcbStatus,
    advisories,
    measurements: quoteMeasurements(q),
    reportData: toHex(q.body.reportData),
    checks: list.checks,
    errors: list.errors,
  };
}

/** A failed Verification for bytes that are not a quote; tee is read from the header when present. */
export function unparsed(bytes: Uint8Array, list: CheckList): Verification {
  const tdx = bytes instanceof Uint8Array && bytes.length >= 8 && bytes[4] === 0x81;
  return {
    verified: false,
    tee: tdx ? "tdx" : "sgx",
    simulated: false,
    tcbStatus: null,
    advisories: [],
    measurements: {},
    reportData: null,
    checks: list.checks,
    errors: list.errors,
  };
}
