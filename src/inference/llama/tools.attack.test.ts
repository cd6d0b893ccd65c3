import { describe, expect, it } from "vitest";
import { functionsOf } from "./tools.js";

describe("tool names that are Object.prototype's own names", () => {
  it("__proto__, constructor and toString are each an own function, never the object's prototype", () => {
    const fns = functionsOf([{ name: "__proto__", description: "first" }, { name: "constructor" }, { name: "toString" }]);
    expect(Object.keys(fns)).toEqual(["__proto__", "constructor", "toString"]);
    expect(Object.getPrototypeOf(fns)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(fns, "__proto__")?.value).toMatchObject({ description: "first" });
  });
});
