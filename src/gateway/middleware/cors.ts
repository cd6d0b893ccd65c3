/**
 * CORS (https://fetch.spec.whatwg.org/#http-cors-protocol), off unless the operator names
 * origins (`cloister up --cors-origin https://app.example`). A preflight from an allowed
 * origin is answered here, before auth and the completion chain (a browser sends it
 * without credentials); every other response to an allowed origin exposes the headers a
 * verifying client reads: the signature, the request id and the E2E headers. Origins not
 * listed get no CORS headers at all, so the browser blocks the page from reading anything.
 */
import type { MiddlewareHandler } from "hono";
import { CLIENT_NONCE_HEADER, E2E_INNER_CONTENT_TYPE_HEADER, REQUEST_ID_HEADER, SIGNATURE_HEADER, SIGNING_ALGO_HEADER } from "../../seal/headers.js";
import { E2EHeader } from "../../seal/e2e/headers.js";
import type { GatewayEnv } from "../context.js";

const EXPOSED = [SIGNATURE_HEADER, REQUEST_ID_HEADER, "x-request-id", E2E_INNER_CONTENT_TYPE_HEADER, E2EHeader.version, E2EHeader.responseNonce, "retry-after"].join(", ");
// Request headers the API reads: auth, the body type, signing options and every E2E header
// (what a preflight that names none is told).
const ALLOWED_HEADERS = ["authorization", "content-type", SIGNING_ALGO_HEADER, CLIENT_NONCE_HEADER, ...Object.values(E2EHeader)];
/** A header name (RFC 9110 token, lowercased): anything else in the asked list is dropped. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
/** Names a page can never set (Fetch's forbidden request-header names): never listed as allowed. */
const FORBIDDEN = new Set(["accept-charset", "accept-encoding", "access-control-request-headers", "access-control-request-method", "connection", "content-length", "cookie", "cookie2", "date", "dnt", "expect", "host", "keep-alive", "origin", "referer", "set-cookie", "te", "trailer", "transfer-encoding", "upgrade", "via"]);
const askable = (h: string): boolean => HEADER_NAME.test(h) && !FORBIDDEN.has(h) && !h.startsWith("proxy-") && !h.startsWith("sec-");

export function cors(origins: readonly string[]): MiddlewareHandler<GatewayEnv> {
  const allowed = new Set(origins);
  return async (c, next) => {
    const origin = c.req.header("origin");
    const ok = origin !== undefined && allowed.has(origin);
    if (ok && c.req.method === "OPTIONS" && c.req.header("access-control-request-method")) {
      const asked = c.req.header("access-control-request-headers");
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": origin,
          "access-control-allow-methods": "GET, POST, OPTIONS",
          // What the page asks for: SDKs send headers of their own (the openai SDK's
          // x-stainless-*, on every request), which the node ignores, and a browser refuses
          // the whole request if one is not allowed. The origin is one the operator named,
          // and no credentials mode is allowed, so naming a header grants it nothing.
          "access-control-allow-headers": asked ? asked.split(",").map((h) => h.trim().toLowerCase()).filter(askable).join(", ") : ALLOWED_HEADERS.join(", "),
          "access-control-max-age": "600",
          vary: "origin",
        },
      });
    }
    await next();
    if (!ok) {
      // The answer differs by Origin whether or not this one is allowed: a shared cache
      // must not hand this copy (no CORS headers) to an allowed page, or the reverse.
      varyOnOrigin(c);
      return;
    }
    try {
      c.res.headers.set("access-control-allow-origin", origin);
      c.res.headers.set("access-control-expose-headers", EXPOSED);
      c.res.headers.append("vary", "origin");
    } catch {
      // A fetched Response's headers are immutable: copy.
      const h = new Headers(c.res.headers);
      h.set("access-control-allow-origin", origin);
      h.set("access-control-expose-headers", EXPOSED);
      h.append("vary", "origin");
      const res = new Response(c.res.body, { status: c.res.status, headers: h });
      c.res = undefined;
      c.res = res;
    }
  };
}

function varyOnOrigin(c: Parameters<MiddlewareHandler<GatewayEnv>>[0]): void {
  try {
    c.res.headers.append("vary", "origin");
  } catch {
    const h = new Headers(c.res.headers);
    h.append("vary", "origin");
    const res = new Response(c.res.body, { status: c.res.status, headers: h });
    c.res = undefined;
    c.res = res;
  }
}
