import { describe, expect, it } from "vitest";
import { DEFAULT_CLEANER_CONFIG } from "../clean/cleaner.js";
import { describePipeline, pipelineMeasurement } from "./measurement.js";

describe("pipeline measurement", () => {
  const base = { nearDuplicateThreshold: 0.8, modelSha256: null };
  it("is the same for the same cleaner, rules, thresholds and model", () => {
    expect(pipelineMeasurement(describePipeline(DEFAULT_CLEANER_CONFIG, base))).toBe(pipelineMeasurement(describePipeline(DEFAULT_CLEANER_CONFIG, base)));
  });
  it("changes with the risk threshold, the layers, the duplicate threshold and the model", () => {
    const m = pipelineMeasurement(describePipeline(DEFAULT_CLEANER_CONFIG, base));
    expect(pipelineMeasurement(describePipeline({ ...DEFAULT_CLEANER_CONFIG, riskThreshold: 0.6 }, base))).not.toBe(m);
    expect(pipelineMeasurement(describePipeline({ ...DEFAULT_CLEANER_CONFIG, layers: ["validators"] }, base))).not.toBe(m);
    expect(pipelineMeasurement(describePipeline(DEFAULT_CLEANER_CONFIG, { ...base, nearDuplicateThreshold: 0.9 }))).not.toBe(m);
    expect(pipelineMeasurement(describePipeline(DEFAULT_CLEANER_CONFIG, { ...base, modelSha256: "ab".repeat(32) as never }))).not.toBe(m);
  });
  it("covers the rules and word lists by digest", () => {
    const d = describePipeline(DEFAULT_CLEANER_CONFIG, base);
    expect(d.rules).toMatch(/^[0-9a-f]{64}$/);
    expect(d.lexicon.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(d.lexicon.sizes["firstNames"]).toBeGreaterThan(10_000);
    expect(d.nameScorer).toMatch(/^[0-9a-f]{64}$/);
  });
});
