import { describe, expect, it } from "vitest";
import { SAMPLES } from "./corpus.js";
import { scanSource } from "./test-helpers.js";

describe("scanner on the sample corpus", () => {
  it("flags the malicious samples, stays quiet on the benign ones, and prints precision and recall", () => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    const misses: string[] = [];
    for (const s of SAMPLES) {
      const flagged = scanSource(s.code, s.manifest).verdict === "dangerous";
      if (flagged && s.malicious) tp++;
      else if (flagged) (fp++, misses.push(`false positive: ${s.name}`));
      else if (s.malicious) (fn++, misses.push(`missed: ${s.name}`));
    }
    const precision = tp / (tp + fp || 1);
    const recall = tp / (tp + fn || 1);
    console.log(`scanner corpus: ${SAMPLES.filter((s) => s.malicious).length} malicious, ${SAMPLES.filter((s) => !s.malicious).length} benign; precision ${precision.toFixed(2)}, recall ${recall.toFixed(2)}${misses.length ? `; ${misses.join(", ")}` : ""}`);
    expect(misses).toEqual([]);
    expect(precision).toBe(1);
    expect(recall).toBe(1);
  });
});
