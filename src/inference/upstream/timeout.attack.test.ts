/**
 * The wait for an upstream's headers is bounded however the upstream stalls. Through the
 * node's fetch the bound is undici's per-request headersTimeout, which undici restarts on
 * every informational (1xx) response: an upstream sending 103 Early Hints forever would
 * hold the request (and a socket) with no end.
 */
import { createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { createHttpFetch } from "../../gateway/http-fetch.js";
import { createUpstreamBackend } from "./backend.js";

describe.each([
  ["the global fetch", undefined],
  ["createHttpFetch", createHttpFetch()],
] as const)("an upstream that only ever sends 1xx responses, through %s", (_name, via) => {
  it("still times out on the wait for the headers", async () => {
    const sockets: Socket[] = [];
    const timers: Array<ReturnType<typeof setInterval>> = [];
    const hints = createServer((socket) => {
      sockets.push(socket);
      socket.on("error", () => {});
      timers.push(setInterval(() => socket.write("HTTP/1.1 103 Early Hints\r\nlink: </a>; rel=preload\r\n\r\n"), 50));
    });
    await new Promise<void>((r) => hints.listen(0, "127.0.0.1", r));
    const { port } = hints.address() as { port: number };
    try {
      const backend = createUpstreamBackend({ baseURL: `http://127.0.0.1:${port}`, timeoutMs: 200, ...(via ? { fetch: via } : {}) });
      const started = Date.now();
      const err: unknown = await backend.passthrough?.("/v1/chat/completions", new TextEncoder().encode("{}"), new AbortController().signal).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "BACKEND_UNAVAILABLE" });
      expect((err as Error).message).toContain("no answer within 200 ms");
      // undici's fast timers are coarse (about a second); well under the 5 s the test may take.
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      timers.forEach(clearInterval);
      sockets.forEach((s) => s.destroy());
      hints.close();
    }
  }, 10_000);
});
