import { describe, expect, it } from "vitest";
import { BODY_SLACK_BYTES, completionBodyLimit } from "./body-bound.js";

describe("completionBodyLimit", () => {
  it("leaves room for a maximal prompt fully JSON-escaped, and never exceeds the node's limit", () => {
    expect(completionBodyLimit(4 << 20, 12_288)).toBe(6 * 12_288 + BODY_SLACK_BYTES);
    expect(completionBodyLimit(100_000, 131_072)).toBe(100_000);
    expect(completionBodyLimit(4 << 20, undefined)).toBe(4 << 20); // upstream: no bound known
  });
});
