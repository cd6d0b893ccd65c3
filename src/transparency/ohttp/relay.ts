/**
 * An OHTTP relay (RFC 9458 §7): forwards encapsulated requests to one gateway and the
 * answers back. It sees who sends (the client's address) and how much, never what; the
 * gateway sees what, never who. It forwards nothing of the client's but the body and
 * its content type, and logs nothing about clients.
 */
import { OHTTP_KEYS_TYPE, OHTTP_REQUEST_TYPE, OHTTP_RESPONSE_TYPE } from "./key-config.js";

export interface OhttpRelayOptions {
  /** The gateway's base URL (the node), e.g. http://node:8080 */
  readonly gatewayUrl: string;
  readonly fetch?: typeof fetch;
  readonly maxRequestBytes?: number;
}

export function ohttpRelayHandler(opts: OhttpRelayOptions): (req: Request) => Promise<Response> {
  const upstream = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const base = opts.gatewayUrl.replace(/\/+$/, "");
  const max = opts.maxRequestBytes ?? 4 * 1024 * 1024 + 1024;
  return async (req) => {
    const path = new URL(req.url).pathname;
    try {
      if (req.method === "GET" && path === "/ohttp-keys") {
        const r = await upstream(`${base}/ohttp-keys`, { redirect: "error" });
        if (!r.ok || r.headers.get("content-type") !== OHTTP_KEYS_TYPE) return new Response("gateway keys unavailable", { status: 502 });
        return new Response(await r.arrayBuffer(), { headers: { "content-type": OHTTP_KEYS_TYPE } });
      }
      if (req.method === "POST" && (path === "/" || path === "/ohttp")) {
        if (req.headers.get("content-type") !== OHTTP_REQUEST_TYPE) return new Response(`send ${OHTTP_REQUEST_TYPE}`, { status: 415 });
        const body = await req.arrayBuffer();
        if (body.byteLength > max) return new Response("too large", { status: 413 });
        const r = await upstream(`${base}/ohttp`, { method: "POST", body, headers: { "content-type": OHTTP_REQUEST_TYPE }, redirect: "error" });
        const type = r.headers.get("content-type") ?? "application/octet-stream";
        return new Response(await r.arrayBuffer(), { status: r.status, headers: { "content-type": type === OHTTP_RESPONSE_TYPE ? type : type } });
      }
    } catch {
      return new Response("gateway unreachable", { status: 502 });
    }
    return new Response("not found", { status: 404 });
  };
}
