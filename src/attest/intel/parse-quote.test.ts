import { describe, expect, it } from "vitest";
import { AttestationError } from "../../errors.js";
import { toHex, utf8 } from "../../util/bytes.js";
import { quoteMeasurements } from "./measurements.js";
import { parseQuote } from "./parse-quote.js";
import { GOOGLE_DIR, INTEL_DIR, googleFile, intelFile } from "./test-vectors.js";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AttestationError);
    return (e as AttestationError).code;
  }
  return "no error";
}

describe("parseQuote on synthetic input", () => {
  it("rejects empty and short input as QUOTE_MALFORMED", () => {
    expect(codeOf(() => parseQuote(new Uint8Array(0)))).toBe("QUOTE_MALFORMED");
    expect(codeOf(() => parseQuote(new Uint8Array(47)))).toBe("QUOTE_MALFORMED");
  });

  it("rejects an unknown quote version as QUOTE_VERSION_UNSUPPORTED", () => {
    const h = new Uint8Array(48);
    h[0] = 6;
    h[2] = 2;
    expect(codeOf(() => parseQuote(h))).toBe("QUOTE_VERSION_UNSUPPORTED");
  });

  it("rejects a non-ECDSA attestation key type as QUOTE_VERSION_UNSUPPORTED", () => {
    const h = new Uint8Array(48);
    h[0] = 4;
    h[2] = 3;
    h[4] = 0x81;
    expect(codeOf(() => parseQuote(h))).toBe("QUOTE_VERSION_UNSUPPORTED");
  });

  it("rejects a v4 header with no body as QUOTE_MALFORMED", () => {
    const h = new Uint8Array(48);
    h[0] = 4;
    h[2] = 2;
    h[4] = 0x81;
    expect(codeOf(() => parseQuote(h))).toBe("QUOTE_MALFORMED");
  });
});

describe.skipIf(!INTEL_DIR)(`parseQuote on genuine Intel quotes${INTEL_DIR ? "" : " (skipped: ../shared missing)"}`, () => {
  it("reads the TDX v4 quote with an all-zero RTMR3", () => {
    const q = parseQuote(intelFile("tdx_quote"));
    expect(q.tee).toBe("tdx");
    expect(q.header.version).toBe(4);
    expect(q.body.kind).toBe("td10");
    const m = quoteMeasurements(q);
    expect(m["rtmr3"]).toBe("00".repeat(48));
    expect(m["mrtd"]).toBe("91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7");
    expect(Object.keys(m).sort()).toEqual(
      ["mrconfigid", "mrowner", "mrownerconfig", "mrseam", "mrsignerseam", "mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3"].sort(),
    );
    expect(q.signatureData.certification.pckChainPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(3);
    expect(q.signatureData.certification.qeAuthData).toHaveLength(32);
  });

  it("reads the SGX v3 quote: MRENCLAVE, MRSIGNER and report_data 'Hello, world!'", () => {
    const q = parseQuote(intelFile("sgx_quote"));
    expect(q.tee).toBe("sgx");
    expect(q.header.version).toBe(3);
    if (q.body.kind !== "sgx") throw new Error("expected an SGX body");
    expect(utf8.decode(q.body.reportData.subarray(0, 13))).toBe("Hello, world!");
    expect(quoteMeasurements(q)).toEqual({
      mrenclave: "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb",
      mrsigner: "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6",
    });
    expect(q.body.isvProdId).toBe(0);
    expect(q.body.isvSvn).toBe(0);
  });

  it("reads the v5 TD 1.5 quote with tee_tcb_svn2 and mrservicetd", () => {
    const q = parseQuote(intelFile("tdx_quote_outdated"));
    expect(q.header.version).toBe(5);
    expect(q.bodyType).toBe(3);
    if (q.body.kind !== "td15") throw new Error("expected a TD 1.5 body");
    expect(q.body.teeTcbSvn2).toHaveLength(16);
    expect(quoteMeasurements(q)["mrservicetd"]).toHaveLength(96);
    // v5 signs header || body type || body size || body.
    expect(q.signedBytes.length).toBe(48 + 6 + 648);
  });

  it("reads the dstack guest agent and NEAR samples", () => {
    for (const f of ["tdx-quote.hex", "quote-from-tappd.hex", "near_quote_hex.txt"]) {
      const q = parseQuote(intelFile(f));
      expect(q.tee).toBe("tdx");
      expect(quoteMeasurements(q)["rtmr3"]).toMatch(/^[0-9a-f]{96}$/);
    }
    expect(quoteMeasurements(parseQuote(intelFile("near_quote_hex.txt")))["rtmr3"]?.slice(0, 16)).toBe("287a9242edd8c842");
  });

  it("rejects every truncation of a genuine quote as QUOTE_MALFORMED", () => {
    const q = intelFile("tdx_quote");
    const end = q.length - parseQuote(q).trailingBytes;
    for (const n of [0, 10, 48, 100, 632, 636, 700, 1000, 1258, 2000, end - 1]) {
      expect(codeOf(() => parseQuote(q.subarray(0, n)))).toBe("QUOTE_MALFORMED");
    }
  });

  it("rejects a signature data length that runs past the end", () => {
    const q = Uint8Array.from(intelFile("tdx_quote"));
    q[632 + 3] = 0x7f;
    expect(codeOf(() => parseQuote(q))).toBe("QUOTE_MALFORMED");
  });
});

describe.skipIf(!GOOGLE_DIR)(`parseQuote on google/go-tdx-guest quotes${GOOGLE_DIR ? "" : " (skipped: ../shared missing)"}`, () => {
  it("reads the production SPR v4 quote and ignores its appended test bytes", () => {
    const q = parseQuote(googleFile("tdx_prod_quote_SPR_E4.dat"));
    expect(q.header.version).toBe(4);
    expect(q.trailingBytes).toBeGreaterThan(0);
    expect(toHex(q.header.qeVendorId)).toBe("939a7233f79c4ca9940a0db3957f0607");
  });

  it("reads the v5 sample", () => {
    const q = parseQuote(googleFile("quote_v5_sample.dat"));
    expect(q.header.version).toBe(5);
    expect(q.tee).toBe("tdx");
  });
});
