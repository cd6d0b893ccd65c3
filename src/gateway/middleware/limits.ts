/**
 * Resource limits. Concurrency: a fixed number of completions at once, the rest refused
 * with 429 at once rather than queued (clients retry with back-off; a queue would hide
 * overload and hold memory). Body size: refused with 413 from Content-Length when
 * declared, otherwise while reading, so a huge body is never buffered whole.
 * Body reads race the request's abort signal (time limit, client gone): a body that never
 * finishes (slowloris) would otherwise hold its concurrency slot forever.
 */
import type { MiddlewareHandler } from "hono";
import { GatewayError } from "../../errors.js";
import type { GatewayEnv } from "../context.js";
import { knownBodyBytes, setBodyBytes } from "../context.js";
import { GatewayCode } from "../errors.js";

export function concurrencyLimit(max: number): MiddlewareHandler<GatewayEnv> & { readonly active: () => number } {
  let active = 0;
  const mw: MiddlewareHandler<GatewayEnv> = async (c, next) => {
    if (active >= max) throw new GatewayError(429, GatewayCode.TOO_MANY_REQUESTS, `the node is serving its limit of ${max} requests; retry shortly`);
    active++;
    let released = false;
    c.get("onEnd")(() => {
      if (!released) (released = true), active--;
    });
    try {
      await next();
    } catch (err) {
      if (!released) (released = true), active--;
      throw err;
    }
  };
  return Object.assign(mw, { active: () => active });
}

/** Why the request stopped, as a GatewayError (the scope's time limit carries a 408). */
function abortError(signal: AbortSignal): GatewayError {
  const r: unknown = signal.reason;
  return r instanceof GatewayError ? r : new GatewayError(408, GatewayCode.REQUEST_TIMEOUT, "the request body did not arrive in time");
}

/** Resolves with `p`, or rejects once `signal` aborts, calling `onAbort` (cancel the read). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort();
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const stop = (): void => {
      onAbort();
      reject(abortError(signal));
    };
    signal.addEventListener("abort", stop, { once: true });
    p.then(
      (v) => (signal.removeEventListener("abort", stop), resolve(v)),
      (e: unknown) => (signal.removeEventListener("abort", stop), reject(e)),
    );
  });
}

/** `limit` may depend on the route (completions are bounded by the model's context: ../body-bound.ts). */
export function bodyLimit(limit: number | ((path: string) => number)): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const maxBytes = typeof limit === "number" ? limit : limit(c.req.path);
    const tooLarge = (): GatewayError => new GatewayError(413, GatewayCode.BODY_TOO_LARGE, `request body is larger than ${maxBytes} bytes`);
    const declared = Number(c.req.header("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
    const known = knownBodyBytes(c);
    if (known) {
      // Already in memory (an opened E2E request's plaintext): only its size is checked.
      if (known.length > maxBytes) throw tooLarge();
      return next();
    }
    const raw = c.req.raw;
    const signal = c.get("signal");
    if (Number.isFinite(declared)) {
      // Declared and within the limit: the node server reads it straight off the socket
      // (no Web stream, no second Request); every reader goes through bodyBytes().
      const pending = raw.arrayBuffer();
      pending.catch(() => {}); // abandoned on abort; the server's body timeout ends the socket
      const bytes = new Uint8Array(await untilAborted(pending, signal, () => {}));
      if (bytes.length > maxBytes) throw tooLarge();
      setBodyBytes(raw, bytes);
      return next();
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (raw.body) {
      const reader = raw.body.getReader();
      for (;;) {
        const { done, value } = await untilAborted(reader.read(), signal, () => void reader.cancel().catch(() => {}));
        if (done) break;
        total += value.length;
        if (total > maxBytes) {
          await reader.cancel().catch(() => {});
          throw tooLarge();
        }
        chunks.push(value);
      }
    }
    const bytes = (chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks)) as Uint8Array<ArrayBuffer>;
    // A fresh Request carrying the bytes, so later middleware (E2E) may read it as usual.
    const req = new Request(raw.url, { method: raw.method, headers: raw.headers, body: bytes, signal: c.get("signal") });
    setBodyBytes(req, bytes);
    c.req.raw = req;
    return next();
  };
}
