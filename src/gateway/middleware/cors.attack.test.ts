/**
 * CORS with `--cors-origin https://app.example`: origins that only look like it, answers
 * that must carry the headers (errors, streams, sealed-request refusals) and the Vary
 * header shared caches need.
 */
import { describe, expect, it } from "vitest";
import type { ChatRequest, GenerationEvent, InferenceBackend } from "../../inference/backend.js";
import { E2EHeader } from "../../seal/e2e/headers.js";
import { openSqliteStore } from "../../store/sqlite.js";
import { createGateway } from "../app.js";
import { echoTee } from "../test-fakes.js";

function backend(): InferenceBackend {
  async function* chat(_r: ChatRequest): AsyncGenerator<GenerationEvent> {
    yield { type: "delta", text: "ok" };
    yield { type: "done", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 } };
  }
  return { kind: "llama", listModels: async () => [{ id: "m", ownedBy: "cloister", created: 1, maxModelLen: 4096 }], chat, complete: () => chat({ model: "m", messages: [] }), embed: async () => ({ vectors: [[1]], usage: { promptTokens: 1, completionTokens: 0 } }), close: async () => {} };
}

const ALLOWED = "https://app.example";
const app = createGateway({ backend: backend(), tee: echoTee, store: openSqliteStore({ path: ":memory:" }), authRequired: false, corsOrigins: [ALLOWED] });
const vary = (res: Response) => (res.headers.get("vary") ?? "").toLowerCase();

describe("CORS attacks", () => {
  it.each(["null", "https://app.example.evil.com", "https://evil-app.example", "https://APP.EXAMPLE", "http://app.example", "https://app.example:443", "https://app.example/"])(
    "origin %j: no preflight answer and no CORS headers",
    async (origin) => {
      const pre = await app.request("/v1/responses", { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
      expect(pre.headers.get("access-control-allow-origin")).toBeNull();
      const res = await app.request("/v1/models", { headers: { origin } });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    },
  );

  it("an answer to no origin or another origin still says Vary: origin (a cache must not serve it to the allowed page)", async () => {
    for (const headers of [{}, { origin: "https://evil.example" }] as Record<string, string>[]) {
      const res = await app.request("/v1/models", { headers });
      expect(vary(res)).toContain("origin");
    }
    const allowed = await app.request("/v1/models", { headers: { origin: ALLOWED } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(vary(allowed)).toContain("origin");
  });

  it("errors, a Responses stream and a refused sealed request carry the CORS headers to the allowed origin", async () => {
    const post = (path: string, body: string, headers: Record<string, string> = {}) => app.request(path, { method: "POST", headers: { origin: ALLOWED, "content-type": "application/json", ...headers }, body });
    const bad = await post("/v1/responses", "{");
    expect(bad.status).toBe(400);
    const stream = await post("/v1/responses", JSON.stringify({ model: "m", input: "hi", stream: true }));
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    await stream.text();
    const sealed = await post("/v1/responses", "not a sealed body", { [E2EHeader.version]: "v1", [E2EHeader.enc]: "AAAA", "content-type": "application/cloister-e2e" });
    expect(sealed.status).toBeGreaterThanOrEqual(400);
    for (const res of [bad, stream, sealed]) {
      expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED);
      expect(res.headers.get("access-control-expose-headers")).toContain("x-cloister-signature");
    }
  });

  it("a preflight never allows credentials, a name a page cannot set, or what is not a header name", async () => {
    const pre = await app.request("/v1/responses", { method: "OPTIONS", headers: { origin: ALLOWED, "access-control-request-method": "POST", "access-control-request-headers": "Authorization, X-Other, cookie, Sec-Fetch-Mode, proxy-authorization, host, a b, x(y)" } });
    expect(pre.status).toBe(204);
    // Headers the node does not read are allowed (SDKs send their own; the node ignores them).
    expect(pre.headers.get("access-control-allow-headers")).toBe("authorization, x-other");
    expect(pre.headers.get("access-control-allow-credentials")).toBeNull();
  });
});

describe("CORS and the SDKs people use from a browser", () => {
  it("a preflight for the headers the openai SDK really sends is allowed them all (else the browser refuses the call)", async () => {
    // The SDK as a browser page runs it: its request, captured by a fetch that answers it.
    const { default: OpenAI } = await import("openai");
    let sent: Headers | null = null;
    const sdk = new OpenAI({
      apiKey: "sk-test",
      baseURL: "https://node.example/v1",
      dangerouslyAllowBrowser: true,
      maxRetries: 0,
      fetch: async (_url: RequestInfo | URL, init?: RequestInit) => {
        sent = new Headers(init?.headers);
        return new Response(JSON.stringify({ id: "x", object: "chat.completion", created: 0, model: "m", choices: [] }), { headers: { "content-type": "application/json" } });
      },
    });
    await sdk.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] });
    const names: string[] = [];
    (sent as Headers | null)?.forEach((_v, k) => void names.push(k));
    // What a browser puts in Access-Control-Request-Headers: the non-safelisted ones.
    const asked = names.filter((n) => !["accept", "accept-language", "content-language"].includes(n));
    expect(asked).toContain("authorization");
    expect(asked.some((n) => n.startsWith("x-stainless-"))).toBe(true);
    const pre = await app.request("/v1/chat/completions", { method: "OPTIONS", headers: { origin: ALLOWED, "access-control-request-method": "POST", "access-control-request-headers": asked.join(",") } });
    expect(pre.status).toBe(204);
    const allowed = (pre.headers.get("access-control-allow-headers") ?? "").split(",").map((h) => h.trim());
    for (const n of asked) expect(allowed, n).toContain(n);
  });
});
