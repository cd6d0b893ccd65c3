import { describe, expect, it } from "vitest";
import { findSchemaProblem } from "./schema-check.js";

describe("findSchemaProblem", () => {
  it("accepts a typical structured-output schema with $defs and references", () => {
    const schema = {
      type: "object",
      properties: { name: { type: "string" }, tags: { type: "array", items: { $ref: "#/$defs/tag" } }, age: { type: ["integer", "null"] } },
      required: ["name"],
      additionalProperties: false,
      $defs: { tag: { enum: ["a", "b"] } },
    };
    expect(findSchemaProblem(schema)).toBeNull();
  });

  it("names an unknown type, a dangling $ref and a non-array enum", () => {
    expect(findSchemaProblem({ type: "object", properties: { x: { type: "text" } } })).toMatch(/properties\/x\/type "text"/);
    expect(findSchemaProblem({ $ref: "#/$defs/missing" })).toMatch(/points nowhere/);
    expect(findSchemaProblem({ enum: "x" })).toMatch(/enum must be an array/);
  });
});
