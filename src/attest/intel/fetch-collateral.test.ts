import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AttestationError } from "../../errors.js";
import { toHex } from "../../util/bytes.js";
import { loadCollateralFile } from "./collateral.js";
import { intelRootCa } from "./certs.js";
import { fetchCollateral } from "./fetch-collateral.js";
import { topLevelRaw } from "./raw-json.js";
import { checkSignedJson } from "./signed-collateral.js";
import { startFakePcs, type FakePcs } from "./test-pcs-server.js";
import { GOOGLE_DIR, INTEL_DIR, googleFile } from "./test-vectors.js";

const have = Boolean(GOOGLE_DIR && INTEL_DIR);
const skipMsg = have ? "" : " (skipped: ../shared missing)";
const NOW = new Date(1688083200_000); // 2023-06-30, when google-tdx's PCS samples are current

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AttestationError);
    return (e as AttestationError).code;
  }
  return "no error";
}

describe("topLevelRaw keeps signed JSON verbatim", () => {
  it("cuts out the exact text of a top-level value, whitespace and key order kept", () => {
    const text = '{"tcbInfo": {"b":1, "a":"x}\\"y"},"signature":"abcd"}';
    expect(topLevelRaw(text, "tcbInfo")).toBe('{"b":1, "a":"x}\\"y"}');
    expect(topLevelRaw(text, "signature")).toBe('"abcd"');
  });

  it("does not take a nested key for a top-level one", () => {
    expect(topLevelRaw('{"x":{"signature":"no"},"signature":"yes"}', "signature")).toBe('"yes"');
    expect(() => topLevelRaw('{"x":{"signature":"no"}}', "signature")).toThrow(AttestationError);
  });
});

describe.skipIf(!have)(`fetchCollateral from a local PCS${skipMsg}`, () => {
  let pcs: FakePcs;
  let base = "";
  let requests: string[] = [];

  beforeAll(async () => {
    pcs = await startFakePcs();
    base = pcs.url;
    requests = pcs.requests;
  });

  afterAll(async () => {
    await pcs.close();
  });

  it("builds DCAP collateral from the PCS v4 endpoints, signed JSON kept verbatim", async () => {
    requests.length = 0;
    const c = await fetchCollateral(googleFile("tdx_prod_quote_SPR_E4.dat"), { pccsUrl: base, now: NOW });
    expect(requests).toEqual([
      "/tdx/certification/v4/tcb?fmspc=50806F000000",
      "/tdx/certification/v4/qe/identity",
      "/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
      "/sgx/certification/v4/rootcacrl",
    ]);
    const tcbText = new TextDecoder().decode(googleFile("sample_tcbInfo_response"));
    expect(tcbText.includes(c.tcb_info)).toBe(true);
    expect(c.tcb_info.startsWith('{"id":"TDX"')).toBe(true);
    expect(c.tcb_info_signature).toBe(JSON.parse(tcbText).signature);
    expect(c.qe_identity.startsWith('{"id":"TD_QE"')).toBe(true);
    expect(c.pck_crl).toBe(toHex(googleFile("pckcrl")));
    expect(c.root_ca_crl).toBe(toHex(googleFile("rootcrl.der")));
    expect(c.pck_crl_issuer_chain).toContain("BEGIN CERTIFICATE");
    // Intel's signature over the extracted text verifies: the bytes are exactly what was signed.
    expect(() => checkSignedJson(c.tcb_info, c.tcb_info_signature, c.tcb_info_issuer_chain, [intelRootCa()], new Date("2025-07-01"), "TCB Info")).not.toThrow();
    expect(() => checkSignedJson(c.qe_identity, c.qe_identity_signature, c.qe_identity_issuer_chain, [intelRootCa()], new Date("2025-07-01"), "QE Identity")).not.toThrow();
  });

  it("serves a second request from the disk cache until the earliest nextUpdate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cloister-pcs-"));
    try {
      const quote = googleFile("tdx_prod_quote_SPR_E4.dat");
      requests.length = 0;
      const first = await fetchCollateral(quote, { pccsUrl: base, now: NOW, cacheDir: dir });
      expect(requests).toHaveLength(4);
      const second = await fetchCollateral(quote, { pccsUrl: base, now: NOW, cacheDir: dir });
      expect(requests).toHaveLength(4);
      expect(second).toEqual(first);
      // The QE identity and PCK CRL are next updated 2023-07-08: after that, fetch again.
      await fetchCollateral(quote, { pccsUrl: base, now: new Date("2023-07-09T00:00:00Z"), cacheDir: dir });
      expect(requests).toHaveLength(8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports an HTTP error from the PCS as COLLATERAL_FETCH_FAILED", async () => {
    pcs.failWith404 = true;
    try {
      expect(await codeOf(fetchCollateral(googleFile("tdx_prod_quote_SPR_E4.dat"), { pccsUrl: base, now: NOW }))).toBe("COLLATERAL_FETCH_FAILED");
    } finally {
      pcs.failWith404 = false;
    }
  });

  it("reports an unreachable PCS as COLLATERAL_FETCH_FAILED", async () => {
    const refuse: typeof fetch = () => Promise.reject(new TypeError("fetch failed"));
    expect(await codeOf(fetchCollateral(googleFile("tdx_prod_quote_SPR_E4.dat"), { fetch: refuse, now: NOW }))).toBe("COLLATERAL_FETCH_FAILED");
  });
});

describe.skipIf(!INTEL_DIR)(`loadCollateralFile${skipMsg}`, () => {
  it("reads our collateral JSON", async () => {
    const c = await loadCollateralFile(join(INTEL_DIR as string, "tdx_quote_collateral.json"));
    expect(c.tcb_info).toBe(JSON.parse(readFileSync(join(INTEL_DIR as string, "tdx_quote_collateral.json"), "utf8")).tcb_info);
  });
});

describe("loadCollateralFile errors", () => {
  it("says COLLATERAL_MISSING for a missing file and COLLATERAL_INVALID for bad content", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cloister-col-"));
    try {
      expect(await codeOf(loadCollateralFile(join(dir, "nope.json")))).toBe("COLLATERAL_MISSING");
      writeFileSync(join(dir, "bad.json"), "{not json");
      expect(await codeOf(loadCollateralFile(join(dir, "bad.json")))).toBe("COLLATERAL_INVALID");
      writeFileSync(join(dir, "shape.json"), JSON.stringify({ tcb_info: "{}" }));
      expect(await codeOf(loadCollateralFile(join(dir, "shape.json")))).toBe("COLLATERAL_INVALID");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
