/**
 * A request body nested past the stack: JSON.parse takes it, but every later
 * JSON.stringify of a part of it (the Responses object echoes text.format and tools, an
 * upstream backend re-serialises the request) throws a RangeError, i.e. a 500 INTERNAL.
 */
import { describe, expect, it } from "vitest";
import type { ChatRequest, GenerationEvent, InferenceBackend } from "../inference/backend.js";
import { openSqliteStore } from "../store/sqlite.js";
import { createGateway } from "./app.js";
import { echoTee } from "./test-fakes.js";

function backend(): InferenceBackend {
  async function* chat(_r: ChatRequest): AsyncGenerator<GenerationEvent> {
    yield { type: "delta", text: "{}" };
    yield { type: "done", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 } };
  }
  return { kind: "llama", listModels: async () => [{ id: "m", ownedBy: "cloister", created: 1, maxModelLen: 4096 }], chat, complete: () => chat({ model: "m", messages: [] }), embed: async () => ({ vectors: [[1]], usage: { promptTokens: 1, completionTokens: 0 } }), close: async () => {} };
}

/** A schema nested `levels` arrays deep, as JSON text (JSON.stringify itself could not write one this deep). */
const nested = (levels: number): string => '{"type":"array","items":'.repeat(levels) + '{"type":"string"}' + "}".repeat(levels);
const DEEP = "\u0000deep";

describe("request bodies nested past the stack", () => {
  const app = createGateway({ backend: backend(), tee: echoTee, store: openSqliteStore({ path: ":memory:" }), authRequired: false });
  // `schema` in `body` is the string DEEP, replaced by the nested text.
  const post = (path: string, body: unknown, levels: number) =>
    app.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body).replace(JSON.stringify(DEEP), nested(levels)) });

  it.each([
    ["/v1/responses text.format", "/v1/responses", { model: "m", input: "hi", text: { format: { type: "json_schema", name: "x", schema: DEEP } } }],
    ["/v1/responses tool parameters", "/v1/responses", { model: "m", input: "hi", tools: [{ type: "function", name: "f", parameters: DEEP }] }],
    ["/v1/chat/completions response_format", "/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "hi" }], response_format: { type: "json_schema", json_schema: { name: "x", schema: DEEP } } }],
  ])("%s: a 400 naming the nesting, not a 500", async (_name, path, body) => {
    const res = await post(path, body, 6000);
    const err = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect({ status: res.status, code: err.code }).toEqual({ status: 400, code: "invalid_params" });
    expect(err.message).toMatch(/nest/);
  });

  it("a body nested as deep as a schema may be is served", async () => {
    const res = await post("/v1/responses", { model: "m", input: "hi", text: { format: { type: "json_schema", name: "x", schema: DEEP } } }, 64);
    expect(res.status).toBe(200);
  });
});
