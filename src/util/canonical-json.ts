/**
 * Canonical JSON (RFC 8785 subset: keys sorted by UTF-16 code units, no whitespace,
 * JSON.stringify's number and string forms) for everything we hash or sign: agent
 * manifests and receipts, release statements. Only plain data (no NaN, no Infinity);
 * undefined members are dropped.
 */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("canonical JSON has no NaN or Infinity");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}
