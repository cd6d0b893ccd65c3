/**
 * The node as an OHTTP gateway (RFC 9458 §6): opens an encapsulated binary-HTTP request,
 * hands it to the node's own app as if it came from nowhere (no client address, no
 * hop headers), and encapsulates the whole answer. A response stream is collected
 * first: plain OHTTP is not incremental (chunked OHTTP is a later draft).
 */
import { BHttpDecoder, BHttpEncoder } from "bhttp-js";
import { TransparencyError } from "../errors.js";
import { decapsulateRequest, type GatewayKey } from "./encapsulation.js";
import { encodeKeyConfig, OHTTP_KEYS_TYPE, OHTTP_REQUEST_TYPE, OHTTP_RESPONSE_TYPE } from "./key-config.js";

export interface OhttpGatewayOptions {
  readonly keys: readonly GatewayKey[];
  /** The node's own request handler (e.g. hono's app.fetch). */
  readonly dispatch: (req: Request) => Promise<Response>;
  /** Largest encapsulated request accepted. */
  readonly maxRequestBytes?: number;
}

const ALLOWED_PATH = /^\/(v1\/|health$)/;

function problem(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ error: { message, type: "invalid_request_error", code, param: null } }), { status, headers: { "content-type": "application/json" } });
}

export function ohttpKeysHandler(keys: readonly GatewayKey[]): () => Response {
  const body = keys.flatMap((k) => {
    const c = encodeKeyConfig(k.config);
    // RFC 9458 §3.2: application/ohttp-keys is a list of length-prefixed configurations.
    return [c.length >> 8, c.length & 0xff, ...c];
  });
  const bytes = new Uint8Array(body);
  return () => new Response(bytes.slice(), { headers: { "content-type": OHTTP_KEYS_TYPE, "cache-control": "public, max-age=300" } });
}

/**
 * `body`: the request's bytes when a layer before has read them within a bound (the node's
 * body limit); otherwise they are read here whole, so a caller serving the open network
 * must bound them first.
 */
export function ohttpGatewayHandler(opts: OhttpGatewayOptions): (req: Request, body?: Uint8Array) => Promise<Response> {
  const max = opts.maxRequestBytes ?? 4 * 1024 * 1024 + 1024;
  return async (req, body) => {
    if (req.headers.get("content-type") !== OHTTP_REQUEST_TYPE) return problem(415, "ohttp_content_type", `send ${OHTTP_REQUEST_TYPE}`);
    const raw = body ?? new Uint8Array(await req.arrayBuffer());
    if (raw.length > max) return problem(413, "request_too_large", "encapsulated request too large");
    let opened: Awaited<ReturnType<typeof decapsulateRequest>>;
    try {
      opened = await decapsulateRequest(opts.keys, raw);
    } catch (e) {
      // RFC 9458 §5.2: a request that does not decrypt gets a 400, and nothing else is said.
      return problem(400, e instanceof TransparencyError ? e.code : "OHTTP_DECAPSULATION_FAILED", "the encapsulated request could not be opened");
    }
    let inner: Request;
    try {
      const decoded = new BHttpDecoder().decodeRequest(opened.request);
      const path = new URL(decoded.url).pathname;
      if (!ALLOWED_PATH.test(path)) throw new Error("path");
      // The target is always this node: the inner authority is never used to route.
      const url = new URL(`${path}${new URL(decoded.url).search}`, "http://ohttp.local");
      const headers = new Headers(decoded.headers);
      for (const h of ["host", "forwarded", "x-forwarded-for", "x-real-ip", "via"]) headers.delete(h);
      inner = new Request(url, { method: decoded.method, headers, ...(decoded.method === "GET" || decoded.method === "HEAD" ? {} : { body: await decoded.arrayBuffer() }) });
    } catch {
      return new Response(opened.encapsulateResponse(await new BHttpEncoder().encodeResponse(problem(400, "ohttp_inner_request", "the inner request is not binary HTTP for this node"))).slice(), {
        headers: { "content-type": OHTTP_RESPONSE_TYPE },
      });
    }
    const res = await opts.dispatch(inner);
    const full = new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
    return new Response(opened.encapsulateResponse(await new BHttpEncoder().encodeResponse(full)).slice(), {
      headers: { "content-type": OHTTP_RESPONSE_TYPE, "cache-control": "no-store" },
    });
  };
}
