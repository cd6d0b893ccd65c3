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
import { bufferedBody, headerOf, isEventStream, streamedBody, streamedResponse, tapStream, withBufferedHeaders } from "../stream-tap.js";
import { REQUEST_ID_HEADER } from "../../seal/headers.js";

function setHeader(res: Response, k: string, v: string): boolean {
  try {
    res.headers.set(k, v);
    return true;
  } catch {
    return false;
  }
}

/** The node server's response, when the request came over a socket (@hono/node-server). */
interface NodeOutgoing {
  readonly writableFinished: boolean;
  once(event: "close", fn: () => void): unknown;
  off(event: "close", fn: () => void): unknown;
}
function nodeOutgoing(env: unknown): NodeOutgoing | null {
  const o: unknown = typeof env === "object" && env !== null && "outgoing" in env ? env.outgoing : null;
  return typeof o === "object" && o !== null && "writableFinished" in o && "once" in o && typeof o.once === "function" && "off" in o && typeof o.off === "function" ? (o as NodeOutgoing) : null;
}

/**
 * Calls `abort` when the client goes away before its response is done. Over a socket
 * this is the response's "close" before it finished (what the node server's own signal
 * listens to): reading `request.signal` instead would build a second AbortController and
 * an EventTarget listener per request (~9 µs). Any other Request (OHTTP's inner ones, tests) uses its signal.
 */
function watchClient(env: unknown, req: Request, abort: (reason: unknown) => void): () => void {
  const outgoing = nodeOutgoing(env);
  if (outgoing) {
    const onClose = (): void => {
      if (!outgoing.writableFinished) abort(CLIENT_GONE);
    };
    outgoing.once("close", onClose);
    return () => void outgoing.off("close", onClose);
  }
  const client = req.signal;
  const onClient = (): void => abort(client.reason);
  if (client.aborted) onClient();
  else client.addEventListener("abort", onClient, { once: true });
  return () => client.removeEventListener("abort", onClient);
}
const CLIENT_GONE = "Client connection prematurely closed.";

export interface ScopeOptions {
  readonly metrics: Metrics;
  readonly requestTimeoutMs: number;
  readonly shutdownSignal?: AbortSignal;
}

export function scope(opts: ScopeOptions): MiddlewareHandler<GatewayEnv> {
  // One shutdown listener for all requests (one each would pile up on the signal).
  const inFlight = new Set<(reason: unknown) => void>();
  opts.shutdownSignal?.addEventListener("abort", () => inFlight.forEach((abort) => abort(opts.shutdownSignal?.reason)), { once: true });
  return async (c, next) => {
    const t0 = performance.now();
    const route = routeLabel(c.req.path);
    opts.metrics.requestStarted();
    const requestId = newId(idPrefixFor(c.req.path));
    c.set("requestId", requestId);

    // One controller for every reason to stop (time limit, client gone, forced shutdown):
    // AbortSignal.any costs several times more per request in Node 20.
    const ac = new AbortController();
    const abort = (reason: unknown): void => {
      if (!ac.signal.aborted) ac.abort(reason);
    };
    const timer = setTimeout(() => abort(new GatewayError(408, GatewayCode.REQUEST_TIMEOUT, "request took longer than the node allows")), opts.requestTimeoutMs);
    timer.unref?.();
    const stopWatching = watchClient(c.env, c.req.raw, abort);
    if (opts.shutdownSignal?.aborted) abort(opts.shutdownSignal.reason);
    else inFlight.add(abort);
    c.set("signal", ac.signal);

    const callbacks: Array<(o: ResponseOutcome) => void> = [];
    c.set("onEnd", (cb) => void callbacks.push(cb));
    let done = false;
    const finish = (status: number, aborted: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stopWatching();
      inFlight.delete(abort);
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
    // A sealed answer already in memory (src/gateway/e2e.ts seals non-streams at once) is
    // no stream: tapping it would turn it back into one and lose the adapter's fast path.
    // Headers first: reading `res.body` of the server's lightweight Response builds a full one.
    const stream = !bufferedBody(res) && (isEventStream(res) || headerOf(res, "x-cloister-e2e") !== null) ? (streamedBody(res) ?? res.body) : null;
    if (stream) {
      const body = tapStream(stream, { end: () => finish(res.status, false), abort: () => finish(res.status, true) });
      if (body === stream && setHeader(res, REQUEST_ID_HEADER, requestId) && setHeader(res, "x-request-id", requestId)) return;
      const headers = new Headers(res.headers);
      headers.set(REQUEST_ID_HEADER, requestId);
      headers.set("x-request-id", requestId);
      replaceResponse(c, streamedResponse(body, { status: res.status, headers }));
      return;
    }
    const ids = { [REQUEST_ID_HEADER]: requestId, "x-request-id": requestId };
    const same = withBufferedHeaders(res, ids);
    if (same) {
      replaceResponse(c, same);
      finish(res.status, false);
      return;
    }
    try {
      // In place, so a buffered body stays buffered (the adapter's fast path).
      res.headers.set(REQUEST_ID_HEADER, requestId);
      // The name OpenAI, vLLM and proxies use; same value (the completion id).
      res.headers.set("x-request-id", requestId);
    } catch {
      // Headers of a fetched Response are immutable: copy instead.
      const headers = new Headers(res.headers);
      headers.set(REQUEST_ID_HEADER, requestId);
      headers.set("x-request-id", requestId);
      replaceResponse(c, new Response(res.body, { status: res.status, headers }));
    }
    finish(res.status, false);
  };
}
