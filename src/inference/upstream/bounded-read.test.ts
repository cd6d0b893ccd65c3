import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpFetch } from "../../gateway/http-fetch.js";
import { InferenceError } from "../../errors.js";
import { createUpstreamBackend } from "./backend.js";
import { readPrefix } from "./bounded-read.js";

/** An upstream whose bodies never end: chunked, 64 KiB at a time (fast) or a byte every 20 ms (slow). */
let server: Server;
let base = "";
let open = 0;
const endless = (res: ServerResponse, status: number, slow: boolean): void => {
  open++;
  res.on("close", () => open--);
  res.writeHead(status, { "content-type": "application/json" });
  res.write('{"error":{"message":"');
  const chunk = Buffer.alloc(64 * 1024, "x");
  const pump = (): void => {
    if (res.destroyed) return;
    if (slow) return void setTimeout(() => (res.write("x"), pump()), 20);
    if (res.write(chunk)) setImmediate(pump);
    else res.once("drain", pump);
  };
  pump();
};
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    if (req.url === "/v1/models") return endless(res, 200, false);
    if (req.url === "/slow/v1/models") return endless(res, 200, true);
    return endless(res, 500, false);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => void server.close());

const settled = async (): Promise<void> => {
  for (let i = 0; i < 50 && open > 0; i++) await new Promise((r) => setTimeout(r, 20));
};

describe("bounded reads of an upstream's bodies", () => {
  it("readPrefix returns the first bytes and cancels the rest", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(new Uint8Array(1000).fill(7)),
      cancel: () => void (cancelled = true),
    });
    const r = await readPrefix(body, 2500);
    expect(r.whole).toBe(false);
    expect(r.bytes.length).toBe(2500);
    expect(cancelled).toBe(true);
    expect(await readPrefix(new Response("short").body, 2500)).toEqual({ bytes: new TextEncoder().encode("short"), whole: true });
  });

  it("an error body that never ends is a prompt error, and the upstream's connection is let go", async () => {
    const backend = createUpstreamBackend({ baseURL: base, fetch: createHttpFetch() });
    const err = await backend.chat({ model: "m", messages: [{ role: "user", content: "hi" }] })[Symbol.asyncIterator]().next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceError);
    expect((err as InferenceError).code).toBe("BACKEND_UNAVAILABLE");
    await settled();
    expect(open).toBe(0);
  });

  it("a model list that never ends is refused once past its size bound", async () => {
    const backend = createUpstreamBackend({ baseURL: base, fetch: createHttpFetch() });
    await expect(backend.listModels()).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE" });
    await settled();
    expect(open).toBe(0);
  });

  it("a model list that trickles forever is cut at the backend's time limit", async () => {
    const backend = createUpstreamBackend({ baseURL: `${base}/slow`, fetch: createHttpFetch(), timeoutMs: 300 });
    await expect(backend.listModels()).rejects.toThrow(/no model list within 300 ms/);
    await settled();
    expect(open).toBe(0);
  });
});
