import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openSqliteStore } from "../store/sqlite.js";
import { createGateway } from "./app.js";
import { echoTee, wordsBackend } from "./test-fakes.js";

const ROUTES = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models", "/v1/attestation/report", "/v1/signature/x", "/v1/nope"];

/** Request bodies a client could send: noise, near-valid OpenAI bodies with wrong types, deep nesting. */
const body = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 4 }),
  fc.record(
    {
      model: fc.oneof(fc.constant("fake"), fc.string({ maxLength: 20 }), fc.integer(), fc.constant(null)),
      messages: fc.oneof(
        fc.array(fc.record({ role: fc.constantFrom("system", "user", "assistant", "tool", "x", 1), content: fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.constant(null)) }), { maxLength: 4 }),
        fc.string({ maxLength: 10 }),
      ),
      prompt: fc.oneof(fc.string({ maxLength: 30 }), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), fc.integer()),
      stream: fc.oneof(fc.boolean(), fc.string({ maxLength: 3 })),
      max_tokens: fc.oneof(fc.integer({ min: -5, max: 1e9 }), fc.double(), fc.string({ maxLength: 3 })),
      temperature: fc.oneof(fc.double(), fc.string({ maxLength: 3 })),
      n: fc.integer({ min: -2, max: 5 }),
      stop: fc.oneof(fc.string({ maxLength: 5 }), fc.array(fc.string({ maxLength: 5 }), { maxLength: 6 }), fc.integer()),
      response_format: fc.oneof(fc.constant({ type: "json_schema" }), fc.record({ type: fc.string({ maxLength: 12 }) }), fc.string({ maxLength: 5 })),
      input: fc.oneof(fc.string({ maxLength: 10 }), fc.array(fc.integer(), { maxLength: 3 })),
    },
    { requiredKeys: [] },
  ).map((o) => JSON.stringify(o)),
);

describe("the HTTP API under random requests", () => {
  it("answers every request with a status and, for errors, an OpenAI-shaped body; a normal request still works after", async () => {
    const store = openSqliteStore({ path: ":memory:" });
    const app = createGateway({ backend: wordsBackend(["Hello", " world"]), tee: echoTee, store, authRequired: false });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), fc.constantFrom("POST", "GET", "PUT"), body, fc.constantFrom("application/json", "text/plain", ""), async (route, method, b, type) => {
        const res = await app.request(route, { method, headers: type ? { "content-type": type } : {}, ...(method === "GET" ? {} : { body: b }) });
        const text = await res.text();
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) {
          const err = (JSON.parse(text) as { error?: { message?: unknown; type?: unknown; code?: unknown } }).error;
          expect(typeof err?.message).toBe("string");
          expect(typeof err?.type).toBe("string");
          expect(err && "code" in err).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
    const ok = await app.request("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "fake", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe("Hello world");
    await store.close();
  });
});
