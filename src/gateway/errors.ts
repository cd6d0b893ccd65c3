/**
 * The ONE place where failures become HTTP responses. Every handler and middleware
 * throws (GatewayError, InferenceError, ZodError, anything); this maps it to an
 * OpenAI-shaped body `{"error":{"message","type","param","code"}}` with the right status,
 * so the official SDK raises its typed errors (BadRequestError, AuthenticationError...).
 * Unknown failures become a 500 whose message reveals nothing (it may echo content).
 */
import { ZodError } from "zod";
import { ZodError as ZodV4Error } from "zod/v4";
import { GatewayError, InferenceError, isCloisterError } from "../errors.js";
import { InferenceCode } from "../inference/backend.js";

/** Stable GatewayError codes. The wire `code` is the lower-case form. */
export const GatewayCode = {
  INVALID_JSON: "INVALID_JSON",
  INVALID_PARAMS: "INVALID_PARAMS",
  UNSUPPORTED_PARAM: "UNSUPPORTED_PARAM",
  INVALID_API_KEY: "INVALID_API_KEY",
  NOT_FOUND: "NOT_FOUND",
  METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
  BODY_TOO_LARGE: "BODY_TOO_LARGE",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  REQUEST_TIMEOUT: "REQUEST_TIMEOUT",
  SHUTTING_DOWN: "SHUTTING_DOWN",
  INTERNAL: "INTERNAL",
} as const;

export interface OpenAIErrorBody {
  readonly error: { readonly message: string; readonly type: string; readonly param: string | null; readonly code: string };
}

const INFERENCE_STATUS: Readonly<Record<string, number>> = {
  [InferenceCode.MODEL_NOT_FOUND]: 404,
  [InferenceCode.MODEL_UNAVAILABLE]: 503,
  [InferenceCode.BACKEND_UNAVAILABLE]: 503,
  [InferenceCode.BACKEND_BUSY]: 429,
  [InferenceCode.CONTEXT_OVERFLOW]: 400,
  [InferenceCode.INVALID_SCHEMA]: 400,
  [InferenceCode.INPUT_TOO_LARGE]: 400,
  [InferenceCode.GENERATION_FAILED]: 500,
  [InferenceCode.CANCELLED]: 408,
  [InferenceCode.UNSUPPORTED_PARAM]: 400,
};

/** Normalises anything thrown into a GatewayError with an HTTP status. */
/**
 * The node's own reason to stop a request (its time limit: 408 request_timeout) when the
 * request's signal carries one, else `err`: it wins over the backend's generic "cancelled
 * by the client" that the abort made.
 */
export function nodeReasonOr(signal: AbortSignal, err: unknown): unknown {
  return signal.aborted && signal.reason instanceof GatewayError ? signal.reason : err;
}

export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  // The request schemas use zod's v4 API (./schemas.ts: about a third of v3's parse time per request); other parts still throw v3 errors.
  if (err instanceof ZodError || err instanceof ZodV4Error) {
    const issue = err.issues[0];
    const param = issue && issue.path.length ? issue.path.map(String).join(".") : null;
    const message = issue ? `${param ?? "body"}: ${issue.message}` : "invalid request body";
    return new GatewayError(400, GatewayCode.INVALID_PARAMS, message, { param, cause: err });
  }
  if (err instanceof InferenceError) {
    const status = INFERENCE_STATUS[err.code] ?? 500;
    // Inference messages are written by our backends and never carry content.
    const named = typeof err.details?.["param"] === "string" ? err.details["param"] : null;
    return new GatewayError(status, err.code, err.message, { cause: err, param: err.code === InferenceCode.MODEL_NOT_FOUND ? "model" : named });
  }
  if (isCloisterError(err)) return new GatewayError(500, err.code, "internal error", { cause: err });
  return new GatewayError(500, GatewayCode.INTERNAL, "internal error", { cause: err });
}

export function errorBody(e: GatewayError): OpenAIErrorBody {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.code.toLowerCase() } };
}

export function errorResponse(err: unknown): Response {
  const e = toGatewayError(err);
  // RFC 9110 §10.2.3: a 429 says when to come back (slots free within a second or so).
  const headers: Record<string, string> = e.status === 429 ? { "content-type": "application/json", "retry-after": "1" } : { "content-type": "application/json" };
  return new Response(JSON.stringify(errorBody(e)), { status: e.status, headers });
}
