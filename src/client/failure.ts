/**
 * How a verification failure reaches a caller that is an SDK (docs/notes/client-e2e.md,
 * "What each SDK does with a failure"). A `fetch` that throws looks like a network error
 * to every SDK: openai 4–7 wrap it as `APIConnectionError: Connection error.` and retry
 * it (3 attempts at the default maxRetries), LangChain's AsyncCaller retries it up to 6
 * times, the Vercel AI SDK retries a TypeError("fetch failed"). A refusal is final, so by
 * default the verified fetch answers with a synthetic, non-retryable HTTP error instead:
 *
 *   403, `x-should-retry: false`, {"error": {message, type: "cloister_verification_error", code: <ClientCode>, param: null}}
 *
 * 403 because it is the one status every SDK we claim treats as final: openai honours
 * x-should-retry and does not retry a 403 anyway (PermissionDeniedError, `.code` = ours),
 * LangChain lists 400–407/409/413 as no-retry, the AI SDK retries only 408/409/429/5xx
 * (APICallError, `.data.error.code` = ours). The ClientError itself stays reachable
 * through `clientErrorOf(response)` for callers that use the fetch directly.
 *
 * A proxy can forge the same error body, but an error carries no content the caller
 * trusts: forging one is a denial of service, which a proxy can do anyway.
 */
import type { ClientError } from "../errors.js";

export const VERIFICATION_FAILURE_STATUS = 403;
export const VERIFICATION_ERROR_TYPE = "cloister_verification_error";

const failures = new WeakMap<Response, ClientError>();

export function failureResponse(err: ClientError): Response {
  const body = JSON.stringify({ error: { message: `${err.code}: ${err.message}`, type: VERIFICATION_ERROR_TYPE, code: err.code, param: null } });
  const res = new Response(body, {
    status: VERIFICATION_FAILURE_STATUS,
    statusText: "Cloister verification failed",
    headers: { "content-type": "application/json", "x-should-retry": "false" },
  });
  failures.set(res, err);
  return res;
}

/** The ClientError behind a response the verified fetch made up, or undefined for a real one. */
export function clientErrorOf(res: Response): ClientError | undefined {
  return failures.get(res);
}
