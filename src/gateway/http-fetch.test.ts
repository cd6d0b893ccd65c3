import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
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
