import { GatewayError } from "../../errors.js";
import type { GatewayContext } from "../context.js";
import { bodyBytes } from "../context.js";
import { GatewayCode } from "../errors.js";
import { jsonDepth } from "../../util/json-depth.js";

/**
 * Nesting of objects and arrays a body may have: room for a 64-level schema
 * (src/inference/llama/schema-check.ts) inside a request. JSON.parse takes far deeper,
 * but every JSON.stringify of a part of it (the Responses object echoing text.format and
 * tools, an upstream backend re-serialising the request) then throws a RangeError: a 500.
 */
export const MAX_BODY_DEPTH = 128;

const dec = new TextDecoder("utf-8", { fatal: true });

/** The request body as JSON; 400 invalid_json for anything that is not a JSON object. */
export async function jsonBody(c: GatewayContext): Promise<unknown> {
  const bytes = await bodyBytes(c);
  let value: unknown;
  let text: string;
  try {
    text = dec.decode(bytes);
    value = JSON.parse(text);
  } catch (cause) {
    throw new GatewayError(400, GatewayCode.INVALID_JSON, "request body is not valid JSON", { cause });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new GatewayError(400, GatewayCode.INVALID_JSON, "request body must be a JSON object");
  }
  // A body this deep holds more than 2 × MAX_BODY_DEPTH characters: a shorter one skips the walk.
  if (text.length > 2 * MAX_BODY_DEPTH && jsonDepth(value, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
    throw new GatewayError(400, GatewayCode.INVALID_PARAMS, `request body nests deeper than ${MAX_BODY_DEPTH} objects and arrays`);
  }
  // zod v4's .loose() copies unknown keys by assignment, so a "__proto__" key becomes the
  // parsed object's prototype and its fields (max_tokens, stream, tools) are read without
  // having been validated; z.record skips the key unchecked. The key can be spelt with
  // \u escapes, so the walk runs whenever either form could be there.
  if ((text.includes("__proto__") || text.includes("\\u")) && holdsProtoKey(value)) {
    throw new GatewayError(400, GatewayCode.INVALID_PARAMS, 'request body must not hold a "__proto__" key', { param: "__proto__" });
  }
  return value;
}

/** Whether any object in a JSON.parse result has an own "__proto__" key (iterative: nesting depth is the client's). */
function holdsProtoKey(root: object): boolean {
  const todo: unknown[] = [root];
  while (todo.length > 0) {
    const v = todo.pop();
    if (typeof v !== "object" || v === null) continue;
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === "object" && x !== null) todo.push(x);
      continue;
    }
    if (Object.hasOwn(v, "__proto__")) return true;
    for (const x of Object.values(v)) if (typeof x === "object" && x !== null) todo.push(x);
  }
  return false;
}

export function onlyN1(n: number | null | undefined): void {
  if (n != null && n !== 1) throw new GatewayError(400, GatewayCode.UNSUPPORTED_PARAM, "only n=1 is supported", { param: "n" });
}
