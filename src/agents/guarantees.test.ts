import { describe, expect, it } from "vitest";
import { assertRequirements, parseRequirements, unmetRequirements } from "./guarantees.js";
import { parseManifest } from "./manifest.js";

const m = parseManifest({ name: "a", version: "1.0.0", entry: "i.js", egress: ["api.example.com"], observability: "metrics" });
const h = "a".repeat(64);

describe("guarantees", () => {
  it("hold when egress is a subset and the level no more revealing", () => {
    expect(unmetRequirements(m, h, { egress: ["api.example.com", "other.test"], observability: "redacted" })).toEqual([]);
  });
  it("fail on an undeclared-by-the-caller host, a more revealing level, or another bundle", () => {
    expect(unmetRequirements(m, h, { egress: [] })).toHaveLength(1);
    expect(unmetRequirements(m, h, { observability: "none" })).toHaveLength(1);
    expect(unmetRequirements(m, h, { bundle_sha256: "b".repeat(64) })).toHaveLength(1);
    expect(() => assertRequirements(m, h, { observability: "none" })).toThrow(/observability is metrics/);
  });
  it("parse strictly", () => {
    expect(() => parseRequirements({ egress: ["127.0.0.1"] })).toThrow();
    expect(() => parseRequirements({ observability: "some" })).toThrow();
    expect(parseRequirements({ egress: ["api.example.com"], observability: "none" })).toEqual({ egress: ["api.example.com"], observability: "none" });
  });
});
