import { GatewayError } from "../../errors.js";
import type { GatewayContext } from "../context.js";
import { bodyBytes } from "../context.js";
import { GatewayCode } from "../errors.js";

const dec = new TextDecoder("utf-8", { fatal: true });

/** The request body as JSON; 400 invalid_json for anything that is not a JSON object. */
export async function jsonBody(c: GatewayContext): Promise<unknown> {
  const bytes = await bodyBytes(c);
  let value: unknown;
  try {
    value = JSON.parse(dec.decode(bytes));
  } catch (cause) {
    throw new GatewayError(400, GatewayCode.INVALID_JSON, "request body is not valid JSON", { cause });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new GatewayError(400, GatewayCode.INVALID_JSON, "request body must be a JSON object");
  }
  return value;
}

export function onlyN1(n: number | null | undefined): void {
  if (n != null && n !== 1) throw new GatewayError(400, GatewayCode.UNSUPPORTED_PARAM, "only n=1 is supported", { param: "n" });
}
