import { describe, expect, it } from "vitest";
import { checkNotDebug } from "./debug.js";
import { parseQuote } from "./parse-quote.js";
import type { ParsedQuote } from "./quote-types.js";
import { INTEL_DIR, intelFile } from "./test-vectors.js";

const skipMsg = INTEL_DIR ? "" : " (skipped: ../shared missing)";

/** The parsed quote with one attribute byte changed (the signature is not the point here). */
function withAttr(q: ParsedQuote, byte: number): ParsedQuote {
  if (q.body.kind === "sgx") return { ...q, body: { ...q.body, attributes: Uint8Array.from([byte, ...q.body.attributes.subarray(1)]) } };
  return { ...q, body: { ...q.body, tdAttributes: Uint8Array.from([byte, ...q.body.tdAttributes.subarray(1)]) } };
}

describe.skipIf(!INTEL_DIR)(`debuggable TDs and enclaves are refused${skipMsg}`, () => {
  it("accepts the genuine production TD and SGX enclave", () => {
    expect(() => checkNotDebug(parseQuote(intelFile("tdx_quote")))).not.toThrow();
    expect(() => checkNotDebug(parseQuote(intelFile("sgx_quote")))).not.toThrow();
  });

  it("refuses a TD with TDATTRIBUTES.DEBUG (bit 0) and an enclave with ATTRIBUTES.DEBUG (bit 1) as DEBUG_ENABLED", () => {
    expect(() => checkNotDebug(withAttr(parseQuote(intelFile("tdx_quote")), 0x01))).toThrow(expect.objectContaining({ code: "DEBUG_ENABLED" }));
    const sgx = parseQuote(intelFile("sgx_quote"));
    const init = sgx.body.kind === "sgx" ? (sgx.body.attributes[0] ?? 0) : 0;
    expect(() => checkNotDebug(withAttr(sgx, init | 0x02))).toThrow(expect.objectContaining({ code: "DEBUG_ENABLED" }));
  });
});
