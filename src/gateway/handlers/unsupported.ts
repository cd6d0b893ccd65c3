/**
 * Parameters of the OpenAI API this node does not implement. A client that sends one
 * gets a 400 `unsupported_param` naming it, never a silently different answer (an
 * ignored `dimensions` would hand back vectors of the wrong length; an ignored `audio`
 * a text answer the client did not ask for). A parameter sent with its "off" value
 * (null, false, the default) is accepted: SDKs send those.
 */
import { GatewayError } from "../../errors.js";
import { GatewayCode } from "../errors.js";

type Off = (v: unknown) => boolean;
const nullish: Off = (v) => v === null || v === undefined;
const falsy: Off = (v) => nullish(v) || v === false;
const oneOf =
  (...ok: unknown[]): Off =>
  (v) =>
    nullish(v) || ok.includes(v);

const CHAT: Readonly<Record<string, Off>> = {
  audio: nullish,
  modalities: (v) => nullish(v) || (Array.isArray(v) && v.every((m) => m === "text")),
  prediction: nullish,
  web_search_options: nullish,
  functions: nullish, // legacy function calling: use `tools`
  function_call: nullish,
  reasoning_effort: nullish,
  service_tier: oneOf("auto", "default"),
};

const COMPLETIONS: Readonly<Record<string, Off>> = {
  best_of: oneOf(1),
  echo: falsy,
  suffix: (v) => nullish(v) || v === "",
};

const EMBEDDINGS: Readonly<Record<string, Off>> = {
  // The embedded models are not Matryoshka-trained: truncating would be a wrong answer.
  dimensions: nullish,
};

export const UNSUPPORTED = { chat: CHAT, completions: COMPLETIONS, embeddings: EMBEDDINGS } as const;

/** Throws 400 unsupported_param for the first parameter in `table` sent with a value we cannot honour. */
export function refuseUnsupported(body: Readonly<Record<string, unknown>>, table: Readonly<Record<string, Off>>): void {
  for (const [name, isOff] of Object.entries(table)) {
    if (name in body && !isOff(body[name])) {
      throw new GatewayError(400, GatewayCode.UNSUPPORTED_PARAM, `the parameter "${name}" is not supported by this node`, { param: name });
    }
  }
}

export function unsupportedParam(name: string, why: string): GatewayError {
  return new GatewayError(400, GatewayCode.UNSUPPORTED_PARAM, `the parameter "${name}" is not supported: ${why}`, { param: name });
}
