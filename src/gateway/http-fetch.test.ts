import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpFetch } from "./http-fetch.js";

let server: Server;
let base = "";
let closedEarly = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (req.url === "/echo") {
        res.writeHead(201, { "content-type": "application/json", "x-a": "1" });
        res.end(JSON.stringify({ method: req.method, body, ct: req.headers["content-type"] }));
        return;
      }
      // /slow: one chunk now, the rest never; counts clients that leave.
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: 1\n\n");
      res.on("close", () => {
        if (!res.writableFinished) closedEarly++;
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => void server.close());

describe("node:http fetch for upstreams", () => {
  it("sends method, headers and body and returns status, headers and body", async () => {
    const f = createHttpFetch();
    const res = await f(`${base}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"x":1}' });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-a")).toBe("1");
    expect(await res.json()).toEqual({ method: "POST", body: '{"x":1}', ct: "application/json" });
  });

  it("streams, and closes the upstream connection when the reader cancels or the signal aborts", async () => {
    const f = createHttpFetch();
    const res = await f(`${base}/slow`, { method: "POST", body: "{}" });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: 1\n\n");
    await reader.cancel();
    const ac = new AbortController();
    const res2 = await f(`${base}/slow`, { method: "POST", body: "{}", signal: ac.signal });
    const r2 = res2.body!.getReader();
    await r2.read();
    ac.abort();
    await expect(r2.read()).rejects.toBeDefined();
    await new Promise((r) => setTimeout(r, 50));
    expect(closedEarly).toBe(2);
  });
});

/** A TCP server that answers every request with `reply(n)` (n counts requests) and reports each socket's close. */
async function rawUpstream(reply: (n: number, head: string) => string, opts: { hangUp?: boolean } = {}): Promise<{ base: string; closed: Promise<void>[]; close(): void }> {
  const closed: Promise<void>[] = [];
  let n = 0;
  const srv = createNetServer((s) => {
    closed.push(new Promise<void>((r) => s.once("close", () => r())));
    s.on("error", () => undefined);
    let buf = "";
    s.on("data", (d) => {
      buf += d.toString("latin1");
      if (!buf.includes("\r\n\r\n")) return;
      s.write(reply(n++, buf));
      buf = "";
      if (opts.hangUp) s.end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return { base: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, closed, close: () => void srv.close() };
}

describe("undici fetch against a misbehaving upstream", () => {
  it("refuses a status no Response can carry and frees the connection instead of holding its slot", async () => {
    // Chunked and never finished: an unread body would keep the only socket busy for good.
    const up = await rawUpstream((n) => (n === 0 ? "HTTP/1.1 600 Odd\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n" : "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
    const f = createHttpFetch({ maxSockets: 1 });
    await expect(f(`${up.base}/x`)).rejects.toThrow(TypeError);
    await up.closed[0];
    const res = await f(`${up.base}/x`);
    expect(await res.text()).toBe("ok");
    up.close();
  });

  it("answers 205 with no body, as fetch does, rather than failing on a Response it cannot build", async () => {
    const up = await rawUpstream(() => "HTTP/1.1 205 Reset Content\r\ncontent-length: 0\r\n\r\n");
    const res = await createHttpFetch()(`${up.base}/x`);
    expect(res.status).toBe(205);
    expect(res.body).toBeNull();
    up.close();
  });

  it("rejects, never hangs, when the upstream closes before the Content-Length it announced", async () => {
    const up = await rawUpstream(() => "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc", { hangUp: true });
    await expect(createHttpFetch()(`${up.base}/x`)).rejects.toThrow(/closed/);
    up.close();
  });

  it("does not follow a redirect to another host, on its own path or the global fetch's", async () => {
    let elsewhere = 0;
    const other = createServer((_req, res) => void (elsewhere++, res.end("leaked")));
    await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
    const to = `http://127.0.0.1:${(other.address() as AddressInfo).port}/v1/chat/completions`;
    const up = await rawUpstream(() => `HTTP/1.1 307 Temporary Redirect\r\nlocation: ${to}\r\ncontent-length: 0\r\n\r\n`);
    const f = createHttpFetch();
    expect((await f(`${up.base}/x`, { method: "POST", body: "prompt" })).status).toBe(307);
    // A body this module does not send itself goes to the global fetch, which follows by default.
    expect((await f(`${up.base}/x`, { method: "POST", body: new Blob(["prompt"]) })).status).toBe(307);
    expect(elsewhere).toBe(0);
    other.close();
    up.close();
  });
});
