import { GatewayError } from "../../errors.js";
import type { GatewayContext } from "../context.js";
import { bodyBytes } from "../context.js";
import { GatewayCode } from "../errors.js";

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
