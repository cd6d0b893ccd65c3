/**
 * A bound on the wait for an upstream's response headers around any fetch: one controller
 * that follows the caller's signal and a timer cleared once the headers are in, so a long
 * stream is never cut. It aborts with a DOMException named "TimeoutError", which the fetch
 * rejects with. (createHttpFetch bounds its own requests inside undici: ./backend.ts
 * TimedFetch; this serves every other fetch.) One controller and a plain timer:
 * AbortSignal.timeout + AbortSignal.any cost several times more per request in Node 20.
 */
export function isHeadersTimeout(err: unknown): boolean {
  return err instanceof DOMException && err.name === "TimeoutError";
}

export async function fetchWithHeadersTimeout(doFetch: typeof fetch, input: string | URL | Request, init: RequestInit, timeoutMs: number): Promise<Response> {
  const ac = new AbortController();
  const outer = init.signal ?? undefined;
  const onAbort = (): void => ac.abort(outer?.reason);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => ac.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError")), timeoutMs);
  try {
    return await doFetch(input, { ...init, signal: ac.signal });
  } finally {
    clearTimeout(timer);
  }
}
