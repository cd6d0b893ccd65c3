/**
 * A second floor for the gateway benches (BENCH_HONO_FLOOR=1 adds it as a side; bench/
 * chain.bench.ts runs it in-process): the bare proxy's work (read, JSON.parse, forward,
 * parse and re-serialise the answer) on the gateway's own stack — hono on
 * @hono/node-server, the gateway's upstream client (src/gateway/http-fetch.ts) and its
 * buffered Response — with none of the gateway's features. Its cost above "bare proxy" is
 * what the framework and client cost; the real gateway's cost above this side is what
 * auth, metering, the store, signing and the receipt log cost.
 *
 *   node --import tsx bench/hono-proxy.ts UPSTREAM_URL   (prints "listening at URL/v1")
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { pathToFileURL } from "node:url";
import { createHttpFetch, fetchedBody } from "../src/gateway/http-fetch.js";
import { bufferedResponse } from "../src/gateway/stream-tap.js";

const dec = new TextDecoder();
const enc = new TextEncoder();

/** The floor's app: forwards chat completions to `upstream` (an origin, no /v1). */
export function honoProxyApp(upstream: string): Hono {
  const origin = upstream.replace(/\/+$/, "");
  const upstreamFetch = createHttpFetch();
  const app = new Hono();
  app.post("/v1/chat/completions", async (c) => {
    const body = new Uint8Array(await c.req.raw.arrayBuffer());
    JSON.parse(dec.decode(body));
    const res = await upstreamFetch(`${origin}/v1/chat/completions`, { method: "POST", body, headers: { "content-type": "application/json" } });
    const whole = fetchedBody(res);
    if (!whole) return new Response(res.body, { status: res.status, headers: { "content-type": "text/event-stream" } });
    const text = JSON.stringify(JSON.parse(dec.decode(whole.bytes)));
    return bufferedResponse(enc.encode(text), { status: res.status, headers: { "content-type": "application/json" } });
  });
  return app;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = honoProxyApp(process.argv[2] ?? "http://127.0.0.1:1");
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => console.log(`listening at http://127.0.0.1:${info.port}/v1`));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
