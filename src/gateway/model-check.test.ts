import { describe, expect, it } from "vitest";
import { InferenceError } from "../errors.js";
import { createModelCheck } from "./model-check.js";

describe("createModelCheck", () => {
  it("refuses unknown models as MODEL_NOT_FOUND and re-lists on a miss at most once per interval", async () => {
    let calls = 0;
    let ids = ["a"];
    let t = 0;
    const check = createModelCheck({ listModels: async () => (calls++, ids.map((id) => ({ id, ownedBy: "t", created: 0 }))) }, 1000, () => t);
    await check("a");
    for (let i = 0; i < 50; i++) await expect(check(`nope-${i}`)).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
    expect(calls).toBe(1);
    ids = ["a", "b"];
    t = 1000;
    await check("b"); // a model added upstream is found once the interval has passed
    expect(calls).toBe(2);
  });

  it("fails closed when the backend cannot list its models", async () => {
    const check = createModelCheck({ listModels: async () => Promise.reject(new Error("down")) });
    await expect(check("a")).rejects.toBeInstanceOf(InferenceError);
    await expect(check("a")).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE" });
  });
});
