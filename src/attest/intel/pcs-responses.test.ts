import { describe, expect, it } from "vitest";
import { INTEL_TCB_SIGNING_PEMS } from "./tcb-signing-certs.js";
import { collateralFromPcsResponses, loadPcsResponseDir } from "./pcs-responses.js";
import { GOOGLE_DIR, googleFile } from "./test-vectors.js";
import { verifyDcapQuote } from "./verify-dcap.js";

const skipMsg = GOOGLE_DIR ? "" : " (skipped: ../shared missing)";
// google-tdx/README.md: the PCS samples are valid at UNIX time 1688083200 (2023-06-30).
const NOW = new Date(1688083200 * 1000);

describe.skipIf(!GOOGLE_DIR)(`collateral from saved Intel PCS responses (google-tdx)${skipMsg}`, () => {
  it("reads the folder: three PCS JSON bodies and two CRLs (DER)", async () => {
    const r = await loadPcsResponseDir(GOOGLE_DIR ?? "");
    expect(r.json.length).toBe(3);
    expect(r.crls.length).toBe(2);
  });

  it("verifies every signature, chain, CRL and the QE identity of the SPR E4 quote at 1688083200; only the TCB level is missing", async () => {
    const quote = googleFile("tdx_prod_quote_SPR_E4.dat");
    const col = collateralFromPcsResponses(await loadPcsResponseDir(GOOGLE_DIR ?? ""), quote);
    expect(col.tcb_info_issuer_chain.startsWith(INTEL_TCB_SIGNING_PEMS[0] ?? "x")).toBe(true); // the 2018-2025 certificate
    const v = verifyDcapQuote(quote, { collateral: col, now: NOW });
    const failed = v.checks.filter((c) => !c.ok && !c.skipped).map((c) => c.name);
    // go-tdx-guest's own test says so too: the sample TCB Info's SVNs are above this
    // platform's (PCK SGX comp 1 = 3 < 5, TEE_TCB_SVN[2] = 4 < 5), so no level matches.
    expect(failed).toEqual(["TCB level (own evaluation)"]);
    expect(v.errors.map((e) => e.code)).toEqual(["TCB_LEVEL_NOT_FOUND"]);
    for (const name of ["TCB Info signature", "QE Identity signature", "CRL signatures", "PCK CRL is current", "PCK certificates not revoked", "QE identity"]) {
      expect(v.checks.find((c) => c.name === name)?.ok).toBe(true);
    }
  });

  it("the 2025 TCB Signing certificate would not do in 2023 (why both are kept)", async () => {
    const quote = googleFile("tdx_prod_quote_SPR_E4.dat");
    const col = collateralFromPcsResponses(await loadPcsResponseDir(GOOGLE_DIR ?? ""), quote);
    const root = col.tcb_info_issuer_chain.slice((INTEL_TCB_SIGNING_PEMS[0] ?? "").length);
    const v = verifyDcapQuote(quote, { collateral: { ...col, tcb_info_issuer_chain: `${INTEL_TCB_SIGNING_PEMS[1] ?? ""}${root}` }, now: NOW });
    expect(v.checks.find((c) => c.name === "TCB Info signature")?.code).toBe("COLLATERAL_SIGNATURE_INVALID");
  });

  it("says COLLATERAL_MISSING when no saved TCB Info fits the quote's FMSPC", async () => {
    const r = await loadPcsResponseDir(GOOGLE_DIR ?? "");
    const onlySpr = { ...r, json: r.json.filter((t) => !t.includes("90c06f")) };
    expect(() => collateralFromPcsResponses(onlySpr, googleFile("quote_v5_sample.dat"))).toThrow(expect.objectContaining({ code: "COLLATERAL_MISSING" }));
  });
});
