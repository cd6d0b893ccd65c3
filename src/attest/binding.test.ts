import { describe, expect, it } from "vitest";
import { checkReportData, computeReportData } from "./binding.js";

const keys = { signer: new Uint8Array(20).fill(1), e2ePublicKey: new Uint8Array(32).fill(2), gpuPayload: '{"nonce":"x"}' };
const nonce = new Uint8Array(32).fill(9);

describe("report_data binding", () => {
  it("accepts the keys and nonce it was computed from", () => {
    expect(checkReportData(computeReportData(keys, nonce), keys, nonce)).toBeNull();
  });
  it("reports NONCE_MISMATCH for another nonce", () => {
    expect(checkReportData(computeReportData(keys, nonce), keys, new Uint8Array(32))).toBe("NONCE_MISMATCH");
  });
  it("reports REPORT_DATA_MISMATCH when any bound key or the GPU evidence changes", () => {
    const rd = computeReportData(keys, nonce);
    expect(checkReportData(rd, { ...keys, e2ePublicKey: new Uint8Array(32).fill(3) }, nonce)).toBe("REPORT_DATA_MISMATCH");
    expect(checkReportData(rd, { ...keys, signer: new Uint8Array(20).fill(7) }, nonce)).toBe("REPORT_DATA_MISMATCH");
    expect(checkReportData(rd, { ...keys, gpuPayload: null }, nonce)).toBe("REPORT_DATA_MISMATCH");
    expect(checkReportData(rd, { ...keys, tlsSpki: new Uint8Array([1]) }, nonce)).toBe("REPORT_DATA_MISMATCH");
  });
});
