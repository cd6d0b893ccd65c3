/**
 * A minimal `fetch` over node:http with a keep-alive agent, for talking to an upstream
 * inference server on loopback inside the TEE. Node 20's built-in fetch (undici) costs
 * about 1 ms per request on a small CPU; this costs a fraction of that (bench/gateway.bench.ts),
 * which matters because every proxied completion pays it. Streams the response body,
 * honours AbortSignal, HTTP only (TLS to a process in the same enclave buys nothing).
 */
import { Agent, request, type IncomingMessage } from "node:http";
import { Readable } from "node:stream";

export function createHttpFetch(options: { maxSockets?: number } = {}): typeof fetch {
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256 });
  const httpFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    if (url.protocol !== "http:") return fetch(input, init);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
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
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (Array.isArray(v)) v.forEach((x) => out.append(k, x));
          else if (v !== undefined) out.set(k, v);
        }
        const status = res.statusCode ?? 502;
        const nullBody = status === 204 || status === 304 || (init.method ?? "GET") === "HEAD";
        // Readable.toWeb gives a pull-driven stream: back-pressure reaches the upstream socket.
        const webBody = nullBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        resolve(new Response(webBody, { status, statusText: res.statusMessage ?? "", headers: out }));
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
