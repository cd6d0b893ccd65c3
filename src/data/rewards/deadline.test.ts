import { describe, expect, it } from "vitest";
import { formatDeadline, parseClaimUntil } from "./deadline.js";

const NOW = 1_800_000_000n;

describe("--claim-until", () => {
  it("adds an offset to the chain's time", () => {
    expect(parseClaimUntil("+30d", NOW)).toBe(NOW + 30n * 86_400n);
    expect(parseClaimUntil("+12h", NOW)).toBe(NOW + 43_200n);
    expect(parseClaimUntil("+90m", NOW)).toBe(NOW + 5_400n);
    expect(parseClaimUntil("+2w", NOW)).toBe(NOW + 1_209_600n);
  });

  it("reads ISO 8601 dates and times as UTC unless they say otherwise", () => {
    expect(parseClaimUntil("2027-01-31", NOW)).toBe(BigInt(Date.UTC(2027, 0, 31) / 1000));
    expect(parseClaimUntil("2027-01-31T12:00:00Z", NOW)).toBe(BigInt(Date.UTC(2027, 0, 31, 12) / 1000));
    expect(parseClaimUntil("2027-01-31T12:00:00+02:00", NOW)).toBe(BigInt(Date.UTC(2027, 0, 31, 10) / 1000));
    expect(formatDeadline(BigInt(Date.UTC(2027, 0, 31, 12) / 1000))).toBe("2027-01-31T12:00:00.000Z");
  });

  it("refuses anything else with POOL_BAD_DEADLINE", () => {
    for (const bad of ["30d", "+0d", "+3y", "next friday", "01/31/2027", "2027-13-45", ""]) {
      expect(() => parseClaimUntil(bad, NOW), bad).toThrow(expect.objectContaining({ code: "POOL_BAD_DEADLINE" }));
    }
  });
});
