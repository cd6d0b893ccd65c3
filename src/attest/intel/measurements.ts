/**
 * Named measurement registers of a parsed quote, as lower-case hex. Key names are the
 * ones policies and `cloister verify` use (see Verification.measurements).
 */
import type { Measurement } from "../../types.js";
import { toHex } from "../../util/bytes.js";
import type { ParsedQuote } from "./quote-types.js";

function m(b: Uint8Array): Measurement {
  return toHex(b) as string as Measurement;
}

export function quoteMeasurements(q: ParsedQuote): Record<string, Measurement> {
  const b = q.body;
  if (b.kind === "sgx") return { mrenclave: m(b.mrEnclave), mrsigner: m(b.mrSigner) };
  const out: Record<string, Measurement> = {
    mrtd: m(b.mrTd),
    rtmr0: m(b.rtmr[0]),
    rtmr1: m(b.rtmr[1]),
    rtmr2: m(b.rtmr[2]),
    rtmr3: m(b.rtmr[3]),
    mrseam: m(b.mrSeam),
    mrsignerseam: m(b.mrSignerSeam),
    mrconfigid: m(b.mrConfigId),
    mrowner: m(b.mrOwner),
    mrownerconfig: m(b.mrOwnerConfig),
  };
  if (b.mrServiceTd) out["mrservicetd"] = m(b.mrServiceTd);
  return out;
}
