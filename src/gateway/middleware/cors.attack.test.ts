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

  it("a preflight never allows credentials or a header the API does not read", async () => {
    const pre = await app.request("/v1/responses", { method: "OPTIONS", headers: { origin: ALLOWED, "access-control-request-method": "POST", "access-control-request-headers": "Authorization, X-Evil, cookie" } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-headers")).toBe("authorization");
    expect(pre.headers.get("access-control-allow-credentials")).toBeNull();
  });
});
