/**
 * A minimal `fetch` over node:http with a keep-alive agent, for talking to an upstream
 * inference server on loopback inside the TEE. Node 20's built-in fetch (undici) costs
 * about 1 ms per request on a small CPU; this costs a fraction of that (bench/gateway.bench.ts),
 * which matters because every proxied completion pays it. Streams the response body,
 * honours AbortSignal, HTTP only (TLS to a process in the same enclave buys nothing).
 *
 * A body with a Content-Length (a non-streamed completion) of at most BUFFER_LIMIT is
 * read in full before the promise resolves and handed over as bytes: no Web stream per
 * response, and `fetchedBody(res)` gives the bytes and their content type to a caller that
 * wants them whole (src/gateway/passthrough.ts) without reading them back through a stream
 * or building a Headers object.
 */
import { Agent, request, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { Readable } from "node:stream";

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

function requestHeaders(h: HeadersInit | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  if (h === undefined) return out;
  if (h instanceof Headers || Array.isArray(h)) {
    new Headers(h).forEach((v, k) => (out[k] = v));
    return out;
  }
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

function responseHeaders(res: IncomingMessage): Array<[string, string]> {
  const raw = res.rawHeaders;
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}

export function createHttpFetch(options: { maxSockets?: number } = {}): typeof fetch {
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256 });
  const httpFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    if (url.protocol !== "http:") return fetch(input, init);
    const headers = requestHeaders(init.headers);
    const body = init.body;
    let payload: Uint8Array | string | undefined;
    if (typeof body === "string") payload = body;
    else if (body instanceof Uint8Array) payload = body;
    else if (body instanceof ArrayBuffer) payload = new Uint8Array(body);
    else if (body != null) return fetch(input, init);
    if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
    const signal = init.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const req = request(url, { method: init.method ?? "GET", headers, agent }, (res: IncomingMessage) => {
        const status = res.statusCode ?? 502;
        const responseInit = { status, statusText: res.statusMessage ?? "", headers: responseHeaders(res) };
        const nullBody = status === 204 || status === 304 || (init.method ?? "GET") === "HEAD";
        if (nullBody) return resolve(new Response(null, responseInit));
        const length = Number(res.headers["content-length"] ?? NaN);
        if (Number.isInteger(length) && length <= BUFFER_LIMIT) {
          const parts: Buffer[] = [];
          res.on("data", (d: Buffer) => parts.push(d));
          res.once("end", () => {
            const bytes = parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts);
            const out = new Response(bytes as Uint8Array<ArrayBuffer>, responseInit);
            fetched.set(out, { bytes, contentType: res.headers["content-type"] });
            resolve(out);
          });
          res.once("error", reject);
          res.once("close", () => {
            if (!res.complete) reject(signal?.reason instanceof Error ? signal.reason : new Error("the upstream closed the connection mid-body"));
          });
          return;
        }
        // Readable.toWeb gives a pull-driven stream: back-pressure reaches the upstream socket.
        resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, responseInit));
      });
      const onAbort = (): void => void req.destroy(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
      signal?.addEventListener("abort", onAbort, { once: true });
      req.once("close", () => signal?.removeEventListener("abort", onAbort));
      req.on("error", reject);
      req.end(payload);
    });
  };
  return httpFetch as typeof fetch;
}
