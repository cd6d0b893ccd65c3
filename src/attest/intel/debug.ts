/**
 * A debuggable TD or enclave gives no confidentiality: its memory is readable by the host.
 * TDX: TDATTRIBUTES bit 0 (DEBUG), Intel TDX Module ABI spec "TDATTRIBUTES"; SGX: ATTRIBUTES
 * bit 1 (DEBUG), Intel SDM Vol. 3D "SECS.ATTRIBUTES". dcap-qvl refuses both as well.
 */
import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";
import type { ParsedQuote } from "./quote-types.js";

export function checkNotDebug(q: ParsedQuote): void {
  const debug = q.body.kind === "sgx" ? ((q.body.attributes[0] ?? 0) & 0x02) !== 0 : ((q.body.tdAttributes[0] ?? 0) & 0x01) !== 0;
  if (debug) throw new AttestationError(AttestCode.DEBUG_ENABLED, q.body.kind === "sgx" ? "the enclave is a debug enclave (ATTRIBUTES.DEBUG)" : "the TD is debuggable (TDATTRIBUTES.DEBUG)");
}
