/**
 * A minimal `fetch` for talking to an upstream inference server on loopback inside the
 * TEE, on undici's dispatcher API (`Agent#request`: Node's own HTTP/1.1 client, without
 * the WHATWG fetch layer). Node 20's built-in fetch costs about 1 ms per request on a
 * small CPU; node:http's `request` ~43 µs of CPU per completion here, this ~32 µs
 * (bench/gateway.bench.ts), which matters because every proxied completion pays it.
 * Streams the response body, honours AbortSignal, HTTP only (TLS to a process in the
 * same enclave buys nothing); anything else goes to the global fetch.
 *
 * A body with a Content-Length (a non-streamed completion) of at most BUFFER_LIMIT is
 * read in full before the promise resolves and handed over as bytes: no Web stream per
 * response, and `fetchedBody(res)` gives the bytes and their content type to a caller that
 * wants them whole (src/gateway/passthrough.ts) without reading them back through a stream
 * or building a Headers object.
 */
import type { IncomingHttpHeaders } from "node:http";
import { Readable } from "node:stream";
import { Agent, errors } from "undici";
import type { HeadersTimeoutInit, TimedFetch } from "../inference/upstream/backend.js";
import { fetchWithHeadersTimeout } from "../inference/upstream/headers-timeout.js";

const BUFFER_LIMIT = 8 * 1024 * 1024;

export interface FetchedBody {
  readonly bytes: Uint8Array;
  readonly contentType: string | undefined;
}

const fetched = new WeakMap<Response, FetchedBody>();

/** The whole body of a Response this module buffered, with its content type; undefined for a streamed one. */
export function fetchedBody(res: Response): FetchedBody | undefined {
  return fetched.get(res);
}

function requestHeaders(h: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (h === undefined) return out;
  if (h instanceof Headers || Array.isArray(h)) {
    new Headers(h).forEach((v, k) => (out[k] = v));
    return out;
  }
  for (const k of Object.keys(h)) out[k.toLowerCase()] = h[k] as string;
  return out;
}

/** undici's header object (lowercase names, repeated ones as arrays) as Response init pairs, kept lazy by the node server's Response. */
function responseHeaders(h: IncomingHttpHeaders): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const k in h) {
    const v = h[k];
    if (typeof v === "string") out.push([k, v]);
    else if (Array.isArray(v)) for (const x of v) out.push([k, x]);
  }
  return out;
}

function headerText(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

interface Target {
  readonly http: boolean;
  readonly origin: string;
  readonly path: string;
  /** Basic credentials from the URL's user:password, which undici (unlike node:http) does not take from the origin. */
  readonly authorization: string | undefined;
}

/** A URL's percent-encoded user or password as text; a malformed escape stays as written rather than failing the call. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Parsed request targets by URL string: a gateway calls the same few URLs, and `new URL` costs more than the lookup. */
const MAX_TARGETS = 256;

/** The global fetch for what this module does not serve, with `headersTimeoutMs` kept (a timer until the headers arrive). */
function globalFetch(input: string | URL | Request, init: HeadersTimeoutInit): Promise<Response> {
  const { headersTimeoutMs, ...rest } = init;
  const fetchInit: RequestInit = { ...rest, redirect: init.redirect ?? "manual" };
  return headersTimeoutMs === undefined ? fetch(input, fetchInit) : fetchWithHeadersTimeout(fetch, input, fetchInit, headersTimeoutMs);
}

/**
 * `init.headersTimeoutMs` bounds the wait for the response headers (undici's per-request
 * headersTimeout: from the request written to the headers read; connecting has undici's
 * own 10 s bound), failing with a DOMException named "TimeoutError" (TimedFetch).
 */
export function createHttpFetch(options: { maxSockets?: number } = {}): TimedFetch {
  // No undici timeouts (its defaults cut at 300 s): a non-streamed completion gets its
  // headers only when generation ends, and the caller's signal carries the node's limits
  // (the backend's wait for headers, the request's time limit), as node:http did.
  const dispatcher = new Agent({ connections: options.maxSockets ?? 256, headersTimeout: 0, bodyTimeout: 0 });
  const targets = new Map<string, Target>();
  const targetOf = (href: string): Target => {
    let t = targets.get(href);
    if (!t) {
      const url = new URL(href);
      const user = url.username || url.password ? `${decoded(url.username)}:${decoded(url.password)}` : undefined;
      t = { http: url.protocol === "http:", origin: url.origin, path: `${url.pathname}${url.search}`, authorization: user === undefined ? undefined : `Basic ${Buffer.from(user).toString("base64")}` };
      if (targets.size >= MAX_TARGETS) targets.clear();
      targets.set(href, t);
    }
    return t;
  };
  const httpFetch = async (input: string | URL | Request, init: HeadersTimeoutInit = {}): Promise<Response> => {
    const target = targetOf(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    // The global fetch would follow a redirect, and a 307/308 re-sends the body (a prompt)
    // to wherever the upstream points; this module's own path never follows one either.
    if (!target.http) return globalFetch(input, init);
    const headers = requestHeaders(init.headers);
    if (target.authorization !== undefined && headers["authorization"] === undefined) headers["authorization"] = target.authorization;
    const body = init.body;
    let payload: Uint8Array | string | undefined;
    if (typeof body === "string") payload = body;
    else if (body instanceof Uint8Array) payload = body;
    else if (body instanceof ArrayBuffer) payload = new Uint8Array(body);
    else if (body != null) return globalFetch(input, init);
    const signal = init.signal ?? undefined;
    if (signal?.aborted) throw signal.reason;
    const method = init.method ?? "GET";
    const timeout = init.headersTimeoutMs;
    // undici restarts headersTimeout on each informational (1xx) response, so an upstream
    // sending 103s forever would never time out: one past the bound fails the request
    // (the wait then ends within twice the bound). Only 1xx responses pay for the check.
    const since = timeout !== undefined ? performance.now() : 0;
    const onInfo = (): void => {
      if (timeout !== undefined && performance.now() - since > timeout) throw new errors.HeadersTimeoutError();
    };
    let res: Awaited<ReturnType<typeof dispatcher.request>>;
    try {
      res = await dispatcher.request({
        origin: target.origin,
        path: target.path,
        method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
        ...(signal ? { signal } : {}),
        ...(timeout !== undefined ? { headersTimeout: timeout, onInfo } : {}),
      });
    } catch (err) {
      if (err instanceof errors.HeadersTimeoutError) throw new DOMException(`no answer within ${timeout} ms`, "TimeoutError");
      throw err;
    }
    const status = res.statusCode;
    if (status < 200 || status > 599) {
      // No Response carries it (RangeError), and an unread body would hold the connection
      // (its slot in the pool) for good: close it and fail like fetch does.
      res.body.destroy();
      throw new TypeError(`the upstream answered HTTP ${status}, which is not a status a response can carry`);
    }
    const responseInit = { status, headers: responseHeaders(res.headers) };
    // Null-body statuses (Fetch §2.2.3): a Response with a body for one of them throws.
    if (status === 204 || status === 205 || status === 304 || method === "HEAD") {
      res.body.resume();
      return new Response(null, responseInit);
    }
    const length = Number(headerText(res.headers["content-length"]) ?? NaN);
    if (Number.isInteger(length) && length <= BUFFER_LIMIT) {
      // A body cut short (upstream gone, signal aborted) rejects here: undici errors the stream.
      const bytes = new Uint8Array(await res.body.arrayBuffer());
      const out = new Response(bytes as Uint8Array<ArrayBuffer>, responseInit);
      fetched.set(out, { bytes, contentType: headerText(res.headers["content-type"]) });
      return out;
    }
    // Readable.toWeb gives a pull-driven stream: back-pressure reaches the upstream socket.
    return new Response(Readable.toWeb(res.body) as ReadableStream<Uint8Array>, responseInit);
  };
  return Object.assign(httpFetch, { honoursHeadersTimeout: true as const });
}
