import { describe, expect, it, vi } from "vitest";
import { CASES, INTEL_DIR, intelCollateral, intelFile } from "./test-vectors.js";
import { verifyDcapQuote } from "./verify-dcap.js";

// A dcap-qvl that disagrees with our own evaluation (as a future release with a bug might).
vi.mock("./dcap-wasm.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("./dcap-wasm.js")>();
  return { ...real, qvlVerify: () => ({ status: "OutOfDate", advisoryIds: ["INTEL-SA-00000"] }) };
});

const skipMsg = INTEL_DIR ? "" : " (skipped: ../shared missing)";

describe.skipIf(!INTEL_DIR)(`TCB cross-check between dcap-qvl and our evaluation${skipMsg}`, () => {
  it("refuses the quote with TCB_CROSS_CHECK_FAILED when dcap-qvl and our own evaluation disagree", () => {
    const v = verifyDcapQuote(intelFile(CASES.tdx.quote), { collateral: intelCollateral(CASES.tdx.collateral), now: CASES.tdx.now });
    expect(v.verified).toBe(false);
    expect(v.tcbStatus).toBeNull();
    expect(v.errors.map((e) => e.code)).toEqual(["TCB_CROSS_CHECK_FAILED"]);
    expect(v.errors[0]?.message).toContain("our evaluation UpToDate");
  });
});
