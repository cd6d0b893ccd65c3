/**
 * Verifies a dstack guest agent GetQuote response ({quote, event_log, report_data,
 * vm_config}): the quote, that it carries the stated report_data, the event log replay,
 * and the app identity in RTMR3. report_data is the app's own: a caller's nonce, if given,
 * is looked for in its second half (Cloister's and NEAR's convention).
 */
import { equalBytes, fromHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import type { ReportVerifyOptions } from "./options.js";
import type { ReportState } from "./result.js";
import { dstackQuoteSchema, parseWith } from "./schema.js";
import { readTdQuoteFields } from "./td-quote.js";
import { checkEventLog, checkTdxQuote } from "./tdx-evidence.js";

export async function verifyDstackQuote(s: ReportState, value: unknown, opts: ReportVerifyOptions): Promise<void> {
  const d = parseWith(dstackQuoteSchema, value, "dstack GetQuote response");
  s.list.pass("report parses", "dstack guest agent GetQuote response");
  const quote = fromHex(d.quote);
  const v = await checkTdxQuote(s, quote, opts);
  if (d.report_data !== undefined && v.reportData !== null) {
    const want = fromHex(d.report_data);
    const got = fromHex(v.reportData);
    const padded = new Uint8Array(64);
    padded.set(want.subarray(0, 64));
    if (equalBytes(got, padded)) s.list.pass("report_data", "the quote carries the response's report_data");
    else s.list.fail("report_data", AttestCode.REPORT_DATA_MISMATCH, "the quote's report_data is not the response's report_data");
  }
  if (opts.nonce === undefined) s.list.notChecked("nonce", "no nonce given: this quote may be a replay");
  else if (v.reportData !== null && v.reportData.slice(64) === opts.nonce) s.list.pass("nonce", "report_data[32:64] is our nonce");
  else s.list.fail("nonce", AttestCode.NONCE_MISMATCH, "report_data[32:64] is not our nonce");
  try {
    s.appIdentity = checkEventLog(s, d.event_log, readTdQuoteFields(quote).rtmrs);
  } catch {
    // unreadable quote: already reported by the quote check
  }
  if (d.vm_config !== undefined) s.list.notChecked("OS image", "vm_config's os_image_hash needs the image itself to check against MRTD/RTMR0-2");
}
