import { describe, expect, it } from "vitest";
import { NVIDIA_DEVICE_ROOT_PEM } from "./roots.js";
import { compareRim, measurementsFromEvidence } from "./rim-compare.js";
import { verifyRim, type RimReference } from "./rim.js";
import { parseSpdmEvidence } from "./spdm.js";
import { hopperSample, readShared } from "./test-vectors.js";

const driverXml = readShared("vectors", "nvidia-spdm", "Driver_RIM_test_no_gpu.swidtag");
const vbiosXml = readShared("vectors", "nvidia-spdm", "1010_0200_882_96005E0001_test_no_gpu.swidtag");
const sample = hopperSample();
const have = driverXml !== null && vbiosXml !== null && sample !== null;
// The RIM signing certificate is valid 2023-06-27 .. 2025-06-26.
const when = new Date("2024-06-01T00:00:00Z");
const codes = (v: { errors: readonly { code: string }[] }): string[] => v.errors.map((e) => e.code);

describe.skipIf(!have)(`NVIDIA RIMs (sample driver and VBIOS RIMs)${have ? "" : " (skipped: ../shared missing)"}`, () => {
  const driver = driverXml ?? "";
  const vbios = vbiosXml ?? "";

  it("verifies both RIMs' XMLDSig signatures and chains to the RIM root", () => {
    for (const xml of [driver, vbios]) {
      const v = verifyRim(xml, { now: when });
      expect(v.errors).toEqual([]);
      expect(v.reference?.measurements).toHaveLength(64);
    }
    expect(verifyRim(driver, { now: when }).reference?.version).toBe("545.00");
    expect(verifyRim(vbios, { now: when }).reference?.version).toBe("96.00.5E.00.01");
  });

  it("returns reference values with their alternatives", () => {
    const ref = verifyRim(driver, { now: when }).reference as RimReference;
    const m7 = ref.measurements.find((m) => m.index === 7);
    expect(m7?.active).toBe(true);
    expect(m7?.alternatives[0]).toBe("0e0ee161b59bf124ce6b6dca6efa7616d28077862c0e57dca7d5efd63d00eeed4851922941e846a38c464cbedbc168d9");
    expect(ref.measurements.filter((m) => m.alternatives.length === 2)).toHaveLength(3);
  });

  it("reports 20 of 33 indices differing against the sample report, as RIM_MISMATCH", () => {
    const refs = [driver, vbios].map((x) => verifyRim(x, { now: when }).reference as RimReference);
    const cmp = compareRim(refs, measurementsFromEvidence(parseSpdmEvidence((sample as NonNullable<typeof sample>).evidence)));
    expect(cmp.compared).toHaveLength(33);
    expect(cmp.mismatched).toHaveLength(20);
    expect(cmp.conflicts).toEqual([]);
    expect(cmp.issue?.code).toBe("RIM_MISMATCH");
    expect(cmp.issue?.message).toContain("20 of 33");
  });

  it("accepts runtime values equal to one of the alternatives", () => {
    const ref = verifyRim(driver, { now: when }).reference as RimReference;
    const runtime = new Map(ref.measurements.map((m) => [m.index, m.alternatives[m.alternatives.length - 1] ?? ""]));
    expect(compareRim(ref, runtime).ok).toBe(true);
    expect(compareRim([ref, ref], runtime).conflicts.length).toBeGreaterThan(0);
  });

  it("rejects a RIM whose reference value was edited (RIM_SIGNATURE_INVALID)", () => {
    const tampered = driver.replace("0e0ee161b59bf124", "1e0ee161b59bf124");
    expect(tampered).not.toBe(driver);
    const v = verifyRim(tampered, { now: when });
    expect(codes(v)).toEqual(["RIM_SIGNATURE_INVALID"]);
    expect(v.reference).toBeNull();
  });

  it("rejects a RIM whose signature value was edited", () => {
    const tampered = driver.replace(/<ds:SignatureValue>./, (m) => m.slice(0, -1) + (m.endsWith("A") ? "B" : "A"));
    expect(codes(verifyRim(tampered, { now: when }))).toEqual(["RIM_SIGNATURE_INVALID"]);
  });

  it("reports CERT_EXPIRED after the signing certificate expired", () => {
    expect(codes(verifyRim(driver, { now: new Date("2026-11-25T00:00:00Z") }))).toEqual(["CERT_EXPIRED"]);
  });

  it("reports FOREIGN_ROOT under another trust anchor", () => {
    expect(codes(verifyRim(driver, { now: when, trustedRootsPem: [NVIDIA_DEVICE_ROOT_PEM] }))).toEqual(["FOREIGN_ROOT"]);
  });
});

describe("RIM input errors", () => {
  it("reports unreadable XML as RIM_SIGNATURE_INVALID", () => {
    expect(codes(verifyRim("<not-xml"))).toEqual(["RIM_SIGNATURE_INVALID"]);
    expect(codes(verifyRim("<SoftwareIdentity/>"))).toEqual(["RIM_SIGNATURE_INVALID"]);
  });
});
