/**
 * node-llama-cpp 3.21's JSON-schema-to-grammar converter is lenient: an unknown `type`
 * silently becomes `null`, a dangling `$ref` becomes "any". A client that sends a broken
 * schema must hear so (INVALID_SCHEMA) instead of getting `null` back, so we check the
 * structure it relies on first (JSON Schema 2020-12 core keywords, the subset it supports).
 * Returns a description of the first problem, or null when the schema looks usable.
 */
import { jsonDepth } from "../../util/json-depth.js";

const TYPES = new Set(["string", "number", "integer", "boolean", "null", "object", "array"]);

/**
 * Nesting of JSON objects and arrays a schema may have. Past a few thousand levels
 * node-llama-cpp's recursive converters (and this walk) overflow the stack: a RangeError,
 * which reached the client as a 500. Real schemas nest a few levels (OpenAI's structured
 * outputs allow 10 schema levels, about 20 here).
 */
export const MAX_SCHEMA_DEPTH = 64;
/**
 * The largest repetition the grammar is given. node-llama-cpp writes minLength/maxLength/
 * minItems/maxItems as GBNF repetitions, and llama.cpp refuses a repetition past its "sane
 * defaults" (a string of minLength 1000 here) by printing the whole grammar to stderr,
 * which holds the client's enum and const values and property names: request content in
 * the operator's logs. A lower bound above this is refused; an upper bound above it is
 * lowered to it in the grammar (capRepeats), which only narrows what may be generated, so
 * every answer still satisfies the client's schema (zod's `.max(10000)` on a string is
 * common). Every schema within these bounds compiles (schema-bounds.attack.test.ts).
 */
export const MAX_SCHEMA_REPEAT = 500;
const LOWER_REPEATS = ["minLength", "minItems"] as const;
const UPPER_REPEATS = ["maxLength", "maxItems"] as const;
/** Keywords whose value maps names to schemas: their keys are names, not keywords. */
const SCHEMA_MAPS = new Set(["properties", "$defs", "definitions", "patternProperties", "dependentSchemas"]);

/**
 * The schema the grammar is built from: a copy with every maxLength/maxItems above
 * MAX_SCHEMA_REPEAT lowered to it. Call it on a schema findSchemaProblem passed (its
 * depth is bounded, so the recursion is too).
 */
export function capRepeats<T>(schema: T): T {
  const walk = (v: unknown, names: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, false));
    if (v === null || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const value = names ? walk(x, false) : (UPPER_REPEATS as readonly string[]).includes(k) && typeof x === "number" && x > MAX_SCHEMA_REPEAT ? MAX_SCHEMA_REPEAT : walk(x, SCHEMA_MAPS.has(k));
      // Defined, not assigned: a property named "__proto__" stays a property.
      Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  return walk(schema, false) as T;
}
const DEFS_PREFIX = "#/$defs/";

/**
 * `defs`: the definition names in scope, those of every enclosing `$defs` (the converter
 * resolves `#/$defs/<name>` against them, not as a JSON pointer from the root).
 */
export function findSchemaProblem(schema: unknown, defs: ReadonlySet<string> = new Set(), path = "#"): string | null {
  // Checked once, without recursion, before the recursive walk below.
  if (path === "#" && jsonDepth(schema, MAX_SCHEMA_DEPTH) > MAX_SCHEMA_DEPTH) return `# nests deeper than ${MAX_SCHEMA_DEPTH} objects and arrays`;
  if (typeof schema === "boolean") return null;
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return `${path} is not a schema object`;
  const s = schema as Record<string, unknown>;
  if ("type" in s) {
    const types = Array.isArray(s["type"]) ? s["type"] : [s["type"]];
    const bad = types.find((t) => typeof t !== "string" || !TYPES.has(t));
    if (bad !== undefined) return `${path}/type ${JSON.stringify(bad)} is not a JSON Schema type`;
  }
  if ("enum" in s && !Array.isArray(s["enum"])) return `${path}/enum must be an array`;
  for (const key of LOWER_REPEATS) {
    if (!(key in s)) continue;
    const n = s[key];
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > MAX_SCHEMA_REPEAT) return `${path}/${key} must be an integer from 0 to ${MAX_SCHEMA_REPEAT}`;
  }
  for (const key of UPPER_REPEATS) {
    if (!(key in s)) continue;
    const n = s[key];
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) return `${path}/${key} must be a non-negative integer`;
  }
  // The converter reads only `$defs` (not draft-07's `definitions`) and follows only
  // `#/$defs/<name>`; any other reference, `#/definitions/x` included, silently became
  // "any" (and a warning naming it on the node's console).
  const drafted = s["definitions"];
  if (drafted !== undefined && !(drafted !== null && typeof drafted === "object" && !Array.isArray(drafted) && Object.keys(drafted).length === 0)) return `${path}/definitions is not supported; put the definitions in $defs and refer to them as #/$defs/<name>`;
  const own = s["$defs"];
  const scope = own !== null && typeof own === "object" && !Array.isArray(own) && Object.keys(own).length > 0 ? new Set([...defs, ...Object.keys(own)]) : defs;
  if ("$ref" in s) {
    const ref = s["$ref"];
    if (typeof ref !== "string" || !ref.startsWith(DEFS_PREFIX) || !scope.has(ref.slice(DEFS_PREFIX.length))) {
      return `${path}/$ref ${JSON.stringify(ref)} points nowhere (only #/$defs/<name> of an enclosing $defs is followed)`;
    }
  }
  for (const key of ["properties", "$defs", "patternProperties"]) {
    if (!(key in s)) continue;
    const v = s[key];
    if (typeof v !== "object" || v === null || Array.isArray(v)) return `${path}/${key} must be an object`;
    for (const [name, sub] of Object.entries(v)) {
      const p = findSchemaProblem(sub, scope, `${path}/${key}/${name}`);
      if (p) return p;
    }
  }
  for (const key of ["anyOf", "oneOf", "allOf", "prefixItems"]) {
    if (!(key in s)) continue;
    const v = s[key];
    if (!Array.isArray(v)) return `${path}/${key} must be an array`;
    for (const [i, sub] of v.entries()) {
      const p = findSchemaProblem(sub, scope, `${path}/${key}/${i}`);
      if (p) return p;
    }
  }
  for (const key of ["items", "additionalProperties", "not"]) {
    if (!(key in s)) continue;
    const p = findSchemaProblem(s[key], scope, `${path}/${key}`);
    if (p) return p;
  }
  return null;
}
