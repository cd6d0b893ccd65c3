/**
 * /v1/responses requests that were answered as if a parameter had not been sent, or whose
 * 400 named a field of the chat body the request is translated into rather than one the
 * client sent.
 */
import { describe, expect, it } from "vitest";
import type { ChatRequest, GenerationEvent, InferenceBackend } from "../inference/backend.js";
import { openSqliteStore } from "../store/sqlite.js";
import { createGateway } from "./app.js";
import { echoTee } from "./test-fakes.js";

function backend(): InferenceBackend {
  async function* chat(_r: ChatRequest): AsyncGenerator<GenerationEvent> {
    yield { type: "delta", text: "ok" };
    yield { type: "done", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 } };
  }
  return { kind: "llama", listModels: async () => [{ id: "m", ownedBy: "cloister", created: 1, maxModelLen: 4096 }], chat, complete: () => chat({ model: "m", messages: [] }), embed: async () => ({ vectors: [[1]], usage: { promptTokens: 1, completionTokens: 0 } }), close: async () => {} };
}

describe("/v1/responses parameters", () => {
  const app = createGateway({ backend: backend(), tee: echoTee, store: openSqliteStore({ path: ":memory:" }), authRequired: false });
  const post = async (body: Record<string, unknown>) => {
    const res = await app.request("/v1/responses", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", input: "hi", ...body }) });
    const json = (await res.json()) as { error?: { code: string; param: string | null } };
    return { status: res.status, code: json.error?.code, param: json.error?.param };
  };

  it.each([
    ["max_tool_calls", { max_tool_calls: 1 }, "max_tool_calls"],
    ["service_tier flex (refused on chat completions too)", { service_tier: "flex" }, "service_tier"],
    ["a hosted tool", { tools: [{ type: "web_search" }] }, "tools"],
    ["a hosted tool beside a function", { tools: [{ type: "function", name: "f" }, { type: "file_search", vector_store_ids: ["v"] }] }, "tools"],
  ])("%s: 400 unsupported_param naming it, not silently ignored", async (_name, body, param) => {
    expect(await post(body)).toEqual({ status: 400, code: "unsupported_param", param });
  });

  it("include: only the output text's logprobs are served; anything else is refused by name", async () => {
    expect(await post({ include: ["file_search_call.results"] })).toEqual({ status: 400, code: "unsupported_param", param: "include" });
    expect(await post({ include: ["message.output_text.logprobs", "reasoning.encrypted_content"] })).toEqual({ status: 400, code: "unsupported_param", param: "include" });
    expect((await post({ include: ["message.output_text.logprobs"], top_logprobs: 2 })).status).toBe(200);
    // top_logprobs without the include returns none (as OpenAI): no logprobs generation, so tools are not refused for it.
    expect((await post({ top_logprobs: 2, tools: [{ type: "function", name: "f" }] })).status).toBe(200);
  });

  it.each([null, "auto", "default"])("service_tier %s passes", async (tier) => {
    expect((await post({ service_tier: tier })).status).toBe(200);
  });

  it("a function_call_output for a call_id never made: the 400 names input.<i>.call_id", async () => {
    const input = [{ role: "user", content: "hi" }, { type: "function_call_output", call_id: "nope", output: "x" }];
    expect(await post({ input })).toEqual({ status: 400, code: "invalid_params", param: "input.1.call_id" });
    // Answered after its call: served.
    const answered = [{ role: "user", content: "hi" }, { type: "function_call", call_id: "c1", name: "f", arguments: "{}" }, { type: "function_call_output", call_id: "c1", output: "x" }];
    expect((await post({ input: answered, instructions: "be brief" })).status).toBe(200);
  });

  it.each([
    ["a name with a space", { tools: [{ type: "function", name: "a b" }] }, "tools.0.name"],
    ["a non-ASCII name", { tools: [{ type: "function", name: "é" }] }, "tools.0.name"],
    ["a description over 8 KiB", { tools: [{ type: "function", name: "f", description: "x".repeat(8193) }] }, "tools.0.description"],
  ])("a tool with %s: the 400 names the Responses field", async (_name, body, param) => {
    expect(await post(body)).toEqual({ status: 400, code: "invalid_params", param });
  });
});
