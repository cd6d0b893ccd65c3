import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnUpstreamServer, type UpstreamProcess } from "../../../test/fixtures/spawn-upstream.js";
import { tinyModelPath } from "../../../test/fixtures/tiny-gguf.js";
import type { GenerationEvent, InferenceBackend } from "../backend.js";
import { collect } from "../collect.js";
import { createHttpFetch } from "../../gateway/http-fetch.js";
import { createUpstreamBackend } from "./backend.js";

const CANNED = "Hello, this is a canned reply.";

async function stats(url: string): Promise<{ requests: number; disconnects: number }> {
  return (await (await fetch(`${url}/_stats`)).json()) as { requests: number; disconnects: number };
}

/** A loopback port nobody listens on: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe("upstream backend against a canned OpenAI-compatible server process", () => {
  let upstream: UpstreamProcess;
  let backend: InferenceBackend;
  const seenHeaders: Headers[] = [];
  beforeAll(async () => {
    upstream = await spawnUpstreamServer();
    const spy: typeof fetch = (input, init) => {
      seenHeaders.push(new Headers(init?.headers));
      return fetch(input, init);
    };
    backend = createUpstreamBackend({ baseURL: `${upstream.url}/v1`, apiKey: "sk-test", fetch: spy });
  });
  afterAll(() => upstream?.close());

  it("lists the upstream's models from GET /v1/models", async () => {
    expect((await backend.listModels()).map((m) => m.id)).toContain("canned");
  });

  it("streams chat deltas and takes usage from the upstream's usage chunk", async () => {
    const events: GenerationEvent[] = [];
    for await (const e of backend.chat({ model: "canned", messages: [{ role: "user", content: "say hi to me" }] })) events.push(e);
    expect(events.filter((e) => e.type === "delta").length).toBe(8);
    expect(events.at(-1)).toEqual({ type: "done", finishReason: "stop", usage: { promptTokens: 4, completionTokens: 8 } });
    expect(seenHeaders.at(-1)?.get("authorization")).toBe("Bearer sk-test");
  });

  it("streams completions and maps finish_reason length", async () => {
    const out = await collect(backend.complete({ model: "canned", prompt: "a b", maxTokens: 3 }));
    expect(out.text).toBe("Hello, this");
    expect(out.finishReason).toBe("length");
    expect(out.usage).toEqual({ promptTokens: 2, completionTokens: 3 });
  });

  it("counts chunks as tokens when the upstream sends no usage", async () => {
    const out = await collect(backend.chat({ model: "canned-nousage", messages: [{ role: "user", content: "hi" }] }));
    expect(out.text).toBe(CANNED);
    expect(out.usage.completionTokens).toBe(8);
    expect(out.usage.promptTokens).toBeGreaterThan(0);
  });

  it("maps an upstream 404 for the model to MODEL_NOT_FOUND", async () => {
    await expect(collect(backend.chat({ model: "nope", messages: [] }))).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
  });

  it("surfaces an error event mid-stream as GENERATION_FAILED after the deltas already sent", async () => {
    const texts: string[] = [];
    const run = (async () => {
      for await (const e of backend.complete({ model: "canned-error", prompt: "x" })) if (e.type === "delta") texts.push(e.text);
    })();
    await expect(run).rejects.toMatchObject({ code: "GENERATION_FAILED" });
    expect(texts).toEqual(["Hello", ","]);
  });

  it("stops the upstream generation when the client aborts", async () => {
    const before = (await stats(upstream.url)).disconnects;
    const ac = new AbortController();
    let deltas = 0;
    const run = (async () => {
      for await (const e of backend.chat({ model: "canned-slow", messages: [{ role: "user", content: "go" }], signal: ac.signal })) {
        if (e.type === "delta" && ++deltas === 2) ac.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ code: "CANCELLED" });
    expect(deltas).toBe(2);
    // The upstream sees the connection close (it would otherwise stream 1,000 tokens).
    await expect.poll(async () => (await stats(upstream.url)).disconnects).toBeGreaterThan(before);
  });

  it("forwards a raw request and returns the upstream's streaming response unchanged", async () => {
    const body = new TextEncoder().encode(JSON.stringify({ model: "canned", stream: true, messages: [{ role: "user", content: "hi" }] }));
    const res = await backend.passthrough?.("/v1/chat/completions", body, new AbortController().signal);
    expect(res?.status).toBe(200);
    expect(res?.headers.get("content-type")).toBe("text/event-stream");
    const text = (await res?.text()) ?? "";
    expect(text.match(/^data: /gm)?.length).toBe(10);
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    const missing = await backend.passthrough?.("/v1/chat/completions", new TextEncoder().encode('{"model":"nope"}'), new AbortController().signal);
    expect(missing?.status).toBe(404);
  });

  it("reports BACKEND_UNAVAILABLE when nothing listens upstream", async () => {
    const down = createUpstreamBackend({ baseURL: `http://127.0.0.1:${await closedPort()}` });
    await expect(down.listModels()).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE" });
    await expect(collect(down.chat({ model: "canned", messages: [] }))).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE" });
  });
});

/** A loopback server that accepts connections and never answers. */
async function silentServer(): Promise<{ port: number; close(): void }> {
  const sockets: Array<{ destroy(): void }> = [];
  const silent = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  const { port } = silent.address() as { port: number };
  return { port, close: () => (sockets.forEach((s) => s.destroy()), silent.close()) };
}

// Both ways of bounding the wait: the backend's own timer (any fetch), and the node's
// createHttpFetch, which bounds it itself (undici's per-request headersTimeout).
describe.each([
  ["the global fetch", undefined],
  ["createHttpFetch", createHttpFetch()],
] as const)("upstream backend timeouts, through %s", (_name, via) => {
  const opts = via ? { fetch: via } : {};
  it("gives up with BACKEND_UNAVAILABLE when the upstream accepts but never answers", async () => {
    const { port, close } = await silentServer();
    try {
      const backend = createUpstreamBackend({ baseURL: `http://127.0.0.1:${port}`, timeoutMs: 100, ...opts });
      const err: unknown = await collect(backend.complete({ model: "m", prompt: "x" })).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "BACKEND_UNAVAILABLE" });
      expect((err as Error).message).toContain("no answer within 100 ms");
      const pt: unknown = await backend.passthrough?.("/v1/chat/completions", new TextEncoder().encode("{}"), new AbortController().signal).catch((e: unknown) => e);
      expect((pt as Error).message).toContain("no answer within 100 ms");
    } finally {
      close();
    }
  });

  it("does not cut a stream whose headers came in time, however long the body runs", async () => {
    const slow = createHttpServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      let i = 0;
      const tick = setInterval(() => {
        if (i++ < 6) res.write(`data: ${JSON.stringify({ id: "x", object: "text_completion", created: 0, model: "m", choices: [{ index: 0, text: "a", finish_reason: null }] })}\n\n`);
        else (clearInterval(tick), res.end("data: [DONE]\n\n"));
      }, 50);
    });
    await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
    const { port } = slow.address() as { port: number };
    try {
      // 6 chunks 50 ms apart: the body takes 3x the 100 ms bound on the headers.
      const backend = createUpstreamBackend({ baseURL: `http://127.0.0.1:${port}`, timeoutMs: 100, ...opts });
      const events = await collect(backend.complete({ model: "m", prompt: "x" }));
      expect(events.text).toBe("aaaaaa");
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });

  it("is cancelled, not timed out, when the caller's signal aborts before the headers", async () => {
    const { port, close } = await silentServer();
    try {
      const backend = createUpstreamBackend({ baseURL: `http://127.0.0.1:${port}`, timeoutMs: 5_000, ...opts });
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error("client left")), 50);
      const err: unknown = await backend.passthrough?.("/v1/chat/completions", new TextEncoder().encode("{}"), ac.signal).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "CANCELLED" });
    } finally {
      close();
    }
  });
});

describe("upstream backend against the fixture server running the llama backend", () => {
  let upstream: UpstreamProcess;
  beforeAll(async () => {
    upstream = await spawnUpstreamServer({ modelPath: await tinyModelPath() });
  });
  afterAll(() => upstream?.close());

  it("streams real model tokens with the upstream's token counts", async () => {
    const backend = createUpstreamBackend({ baseURL: upstream.url });
    const [model] = await backend.listModels();
    const out = await collect(backend.chat({ model: model?.id ?? "", messages: [{ role: "user", content: "hi" }], maxTokens: 5 }));
    expect(out.finishReason).toBe("length");
    expect(out.usage.completionTokens).toBe(5);
    expect(out.usage.promptTokens).toBeGreaterThan(1);
  });
});
