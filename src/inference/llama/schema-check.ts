/**
 * node-llama-cpp 3.21's JSON-schema-to-grammar converter is lenient: an unknown `type`
 * silently becomes `null`, a dangling `$ref` becomes "any". A client that sends a broken
 * schema must hear so (INVALID_SCHEMA) instead of getting `null` back, so we check the
 * structure it relies on first (JSON Schema 2020-12 core keywords, the subset it supports).
 * Returns a description of the first problem, or null when the schema looks usable.
 */
const TYPES = new Set(["string", "number", "integer", "boolean", "null", "object", "array"]);

export function findSchemaProblem(schema: unknown, root: unknown = schema, path = "#"): string | null {
  if (typeof schema === "boolean") return null;
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return `${path} is not a schema object`;
  const s = schema as Record<string, unknown>;
  if ("type" in s) {
    const types = Array.isArray(s["type"]) ? s["type"] : [s["type"]];
    const bad = types.find((t) => typeof t !== "string" || !TYPES.has(t));
    if (bad !== undefined) return `${path}/type ${JSON.stringify(bad)} is not a JSON Schema type`;
  }
  if ("enum" in s && !Array.isArray(s["enum"])) return `${path}/enum must be an array`;
  if ("$ref" in s) {
    const ref = s["$ref"];
    if (typeof ref !== "string" || resolveRef(root, ref) === undefined) return `${path}/$ref ${JSON.stringify(ref)} points nowhere`;
  }
  for (const key of ["properties", "$defs", "definitions", "patternProperties"]) {
    if (!(key in s)) continue;
    const v = s[key];
    if (typeof v !== "object" || v === null || Array.isArray(v)) return `${path}/${key} must be an object`;
    for (const [name, sub] of Object.entries(v)) {
      const p = findSchemaProblem(sub, root, `${path}/${key}/${name}`);
      if (p) return p;
    }
  }
  for (const key of ["anyOf", "oneOf", "allOf", "prefixItems"]) {
    if (!(key in s)) continue;
    const v = s[key];
    if (!Array.isArray(v)) return `${path}/${key} must be an array`;
    for (const [i, sub] of v.entries()) {
      const p = findSchemaProblem(sub, root, `${path}/${key}/${i}`);
      if (p) return p;
    }
  }
  for (const key of ["items", "additionalProperties", "not"]) {
    if (!(key in s)) continue;
    const p = findSchemaProblem(s[key], root, `${path}/${key}`);
    if (p) return p;
  }
  return null;
}

/** Local JSON pointers only (`#/$defs/x`), as the converter supports. */
function resolveRef(root: unknown, ref: string): unknown {
  if (!ref.startsWith("#")) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split("/").filter(Boolean)) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
