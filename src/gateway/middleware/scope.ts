/**
 * Outermost middleware: gives each request its id, an abort signal (client gone, time
 * limit, forced shutdown), metrics, and end-of-response callbacks that fire after the
 * LAST byte of a stream — which is when concurrency slots free and usage closes.
 */
import type { MiddlewareHandler } from "hono";
import { GatewayError } from "../../errors.js";
import type { GatewayEnv, ResponseOutcome } from "../context.js";
import { idPrefixFor, newId, replaceResponse } from "../context.js";
import { GatewayCode } from "../errors.js";
import type { Metrics } from "../metrics.js";
import { routeLabel } from "../metrics.js";
import { isEventStream, tapStream } from "../stream-tap.js";

export interface ScopeOptions {
  readonly metrics: Metrics;
  readonly requestTimeoutMs: number;
  readonly shutdownSignal?: AbortSignal;
}

export function scope(opts: ScopeOptions): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const t0 = performance.now();
    const route = routeLabel(c.req.path);
    opts.metrics.requestStarted();
    const requestId = newId(idPrefixFor(c.req.path));
    c.set("requestId", requestId);

    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new GatewayError(408, GatewayCode.REQUEST_TIMEOUT, "request took longer than the node allows")),
      opts.requestTimeoutMs,
    );
    timer.unref?.();
    const signals = [timeout.signal, c.req.raw.signal];
    if (opts.shutdownSignal) signals.push(opts.shutdownSignal);
    c.set("signal", AbortSignal.any(signals));

    const callbacks: Array<(o: ResponseOutcome) => void> = [];
    c.set("onEnd", (cb) => void callbacks.push(cb));
    let done = false;
    const finish = (status: number, aborted: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.metrics.requestFinished(route, status, (performance.now() - t0) / 1000);
      for (const cb of callbacks) {
        try {
          cb({ status, aborted });
        } catch {
          // An end callback must never break another's bookkeeping.
        }
      }
    };

    try {
      await next();
    } catch (err) {
      finish(500, true);
      throw err;
    }
    const res = c.res;
    // Streams (SSE, or sealed E2E frames) end later than the handler: hook their last byte.
    if (res.body && (isEventStream(res) || res.headers.has("x-cloister-e2e"))) {
      const headers = new Headers(res.headers);
      headers.set("x-cloister-request-id", requestId);
      const body = tapStream(res.body, { end: () => finish(res.status, false), abort: () => finish(res.status, true) });
      replaceResponse(c, new Response(body, { status: res.status, headers }));
      return;
    }
    try {
      // In place, so a buffered body stays buffered (the adapter's fast path).
      res.headers.set("x-cloister-request-id", requestId);
    } catch {
      // Headers of a fetched Response are immutable: copy instead.
      const headers = new Headers(res.headers);
      headers.set("x-cloister-request-id", requestId);
      replaceResponse(c, new Response(res.body, { status: res.status, headers }));
    }
    finish(res.status, false);
  };
}
