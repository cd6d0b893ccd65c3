import { describe, expect, it } from "vitest";
import { parseMarketFlags } from "./node-config.js";

const base = { register: true, price: ["m=1/1"] };

describe("cloister up --token-price", () => {
  it("sells tokens at the given price (flag or CLOISTER_TOKEN_PRICE); absent means no sale", () => {
    expect(parseMarketFlags({ ...base, "token-price": "1000" }, {})?.tokenPrice).toBe(1000n);
    expect(parseMarketFlags(base, { CLOISTER_TOKEN_PRICE: "7" })?.tokenPrice).toBe(7n);
    expect(parseMarketFlags(base, {})?.tokenPrice).toBeUndefined();
  });

  it("refuses a zero, negative or non-integer price as a usage error", () => {
    for (const v of ["0", "-1", "1.5", "abc", "01"]) {
      expect(() => parseMarketFlags({ ...base, "token-price": v }, {})).toThrow(/--token-price must be a positive integer/);
    }
  });
});
