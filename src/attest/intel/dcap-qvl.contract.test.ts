/**
 * Guarantees we rely on from dependencies, written down as tests (STYLE.md "Ours" 10).
 * If an upgrade breaks one, we learn it here rather than in production.
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { qvlVerify } from "./dcap-wasm.js";
import { CASES, INTEL_DIR, flip, flipHex, intelCollateral, intelFile } from "./test-vectors.js";
import { verifyDcapQuote } from "./verify-dcap.js";

const skipMsg = INTEL_DIR ? "" : " (skipped: ../shared missing)";
const secs = (d: Date): number => d.getTime() / 1000;

describe.skipIf(!INTEL_DIR)(`what we rely on from @phala/dcap-qvl-web${skipMsg}`, () => {
  it("accepts the genuine TDX quote with its collateral (UpToDate)", () => {
    const r = qvlVerify(intelFile(CASES.tdx.quote), intelCollateral(CASES.tdx.collateral), secs(CASES.tdx.now));
    expect(r).toEqual({ status: "UpToDate", advisoryIds: [] });
  });

  it("rejects a quote with a flipped bit", () => {
    const r = qvlVerify(flip(intelFile(CASES.tdx.quote), 48 + 100), intelCollateral(CASES.tdx.collateral), secs(CASES.tdx.now));
    expect(r).toHaveProperty("error");
  });

  it("rejects a corrupted pck_crl", () => {
    const c = intelCollateral(CASES.tdx.collateral);
    const r = qvlVerify(intelFile(CASES.tdx.quote), { ...c, pck_crl: flipHex(c.pck_crl, 200) }, secs(CASES.tdx.now));
    expect(r).toHaveProperty("error");
  });

  it("rejects expired TCB Info", () => {
    const r = qvlVerify(intelFile(CASES.tdx.quote), intelCollateral(CASES.tdx.collateral), secs(new Date("2025-08-01T00:00:00Z")));
    expect(r).toHaveProperty("error");
  });

  it("does not decode v5 TD 1.5 quotes (0.3.3), so our own TCB level check must judge them", () => {
    const r = qvlVerify(intelFile(CASES.outdated.quote), intelCollateral(CASES.outdated.collateral), secs(CASES.outdated.now));
    expect(r).toHaveProperty("error");
    const v = verifyDcapQuote(intelFile(CASES.outdated.quote), { collateral: intelCollateral(CASES.outdated.collateral), now: CASES.outdated.now });
    expect(v.errors[0]?.code).toBe("TCB_LEVEL_NOT_FOUND");
  });
});

describe.skipIf(!INTEL_DIR)(`why not the pure-JS @phala/dcap-qvl${skipMsg}`, () => {
  it("the pure-JS build accepts a corrupted CRL (so we use the WASM build and check CRLs ourselves)", () => {
    const require = createRequire(import.meta.url);
    const lib: unknown = require("@phala/dcap-qvl");
    const verify: unknown = typeof lib === "object" && lib !== null ? Reflect.get(lib, "verify") : undefined;
    if (typeof verify !== "function") throw new Error("@phala/dcap-qvl has no verify()");
    const c = intelCollateral(CASES.tdx.collateral);
    const corrupted = { ...c, pck_crl: flipHex(c.pck_crl, 200) };
    const r: unknown = verify(Buffer.from(intelFile(CASES.tdx.quote)), corrupted, secs(CASES.tdx.now));
    // If this ever starts throwing, the JS build has learnt to check CRLs: good news, update the notes.
    expect(typeof r === "object" && r !== null ? Reflect.get(r, "status") : undefined).toBe("UpToDate");
    const ours = verifyDcapQuote(intelFile(CASES.tdx.quote), { collateral: corrupted, now: CASES.tdx.now });
    expect(ours.verified).toBe(false);
    expect(ours.errors[0]?.code).toBe("CRL_INVALID");
  });
});
