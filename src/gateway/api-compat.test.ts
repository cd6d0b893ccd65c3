/**
 * The parts of the OpenAI HTTP API that SDKs and agents rely on, at the gateway: tool
 * calls in messages and stream deltas, logprobs, the Responses API's objects and events,
 * refused parameters, model retrieval, request ids, Retry-After, CORS and the 408 of the
 * node's own time limit. A scripted backend stands in for the model (the real model's
 * side is in src/inference/llama/tools.test.ts and test/e2e/sdk-compat.test.ts).
 */
import { describe, expect, it } from "vitest";
import type { ChatRequest, GenerationEvent, InferenceBackend } from "../inference/backend.js";
import { verifySignedText } from "../seal/signing.js";
import { openSqliteStore } from "../store/sqlite.js";
import { createGateway, type GatewayDeps } from "./app.js";
import { echoTee } from "./test-fakes.js";

const usage = { promptTokens: 4, completionTokens: 3 };
const lp = (token: string) => ({ token, logprob: -0.5, bytes: [...Buffer.from(token)], top: [{ token, logprob: -0.5, bytes: [...Buffer.from(token)] }] });

/** Calls get_weather when tools are given, else says "Hi there" with logprobs when asked; "slow" never ends. */
function scripted(): InferenceBackend & { last: ChatRequest | null } {
  const state = { last: null as ChatRequest | null };
  async function* chat(r: ChatRequest): AsyncGenerator<GenerationEvent> {
    state.last = r;
    if (r.model === "slow") {
      yield { type: "delta", text: "." };
      await new Promise((resolve) => r.signal?.addEventListener("abort", resolve));
      throw new Error("aborted");
    }
    if (r.tools?.length && r.toolChoice !== "none") {
      yield { type: "tool_call", index: 0, id: "call_a", name: "get_weather", argumentsDelta: "" };
      yield { type: "tool_call", index: 0, argumentsDelta: '{"city":' };
      yield { type: "tool_call", index: 0, argumentsDelta: '"Paris"}' };
      yield { type: "done", finishReason: "tool_calls", usage };
      return;
    }
    const withLp = r.topLogprobs !== undefined;
    yield { type: "delta", text: "Hi", ...(withLp ? { logprobs: [lp("Hi")] } : {}) };
    yield { type: "delta", text: " there", ...(withLp ? { logprobs: [lp(" there")] } : {}) };
    yield { type: "done", finishReason: r.maxTokens === 2 ? "length" : "stop", usage };
  }
  return Object.assign(state, {
    kind: "llama" as const,
    listModels: async () => [{ id: "m", ownedBy: "cloister", created: 1, maxModelLen: 4096 }, { id: "slow", ownedBy: "cloister", created: 1, maxModelLen: 4096 }],
    chat,
    complete: (r: Parameters<InferenceBackend["complete"]>[0]) => chat({ ...r, messages: [] }),
    embed: async () => ({ vectors: [[1]], usage }),
    close: async () => {},
  });
}

function gateway(extra: Partial<GatewayDeps> = {}) {
  const backend = scripted();
  const app = createGateway({ backend, tee: echoTee, store: openSqliteStore({ path: ":memory:" }), authRequired: false, ...extra });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) => app.request(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { app, backend, post };
}

const weatherTool = { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } };
const sseData = (text: string) =>
  text
    .split("\n\n")
    .map((e) => e.split("\n").find((l) => l.startsWith("data: "))?.slice(6))
    .filter((d): d is string => d !== undefined && d !== "[DONE]")
    .map((d) => JSON.parse(d) as Record<string, unknown>);

describe("tool calls on /v1/chat/completions", () => {
  it("returns tool_calls with content null and finish_reason tool_calls", async () => {
    const { post, backend } = gateway();
    const res = await post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "w?" }], tools: [weatherTool], tool_choice: "required" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: Record<string, unknown>; finish_reason: string }[] };
    expect(body.choices[0]?.message).toEqual({ role: "assistant", content: null, tool_calls: [{ id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] });
    expect(body.choices[0]?.finish_reason).toBe("tool_calls");
    expect(backend.last?.toolChoice).toBe("required");
    expect(backend.last?.tools?.[0]?.name).toBe("get_weather");
  });

  it("streams the call as deltas: index, id, type and name first, then arguments pieces", async () => {
    const { post } = gateway();
    const res = await post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "w?" }], tools: [weatherTool], stream: true });
    const chunks = sseData(await res.text()) as { choices: { delta: { tool_calls?: unknown[] }; finish_reason: string | null }[] }[];
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toEqual({ index: 0, id: "call_a", type: "function", function: { name: "get_weather", arguments: "" } });
    expect(calls.slice(1)).toEqual([{ index: 0, function: { arguments: '{"city":' } }, { index: 0, function: { arguments: '"Paris"}' } }]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("accepts an assistant turn of only tool_calls and the tool's answer in the history", async () => {
    const { post, backend } = gateway();
    const messages = [
      { role: "user", content: "w?" },
      { role: "assistant", content: null, tool_calls: [{ id: "call_a", type: "function", function: { name: "get_weather", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "call_a", content: "sunny" },
    ];
    const res = await post("/v1/chat/completions", { model: "m", messages });
    expect(res.status).toBe(200);
    expect(backend.last?.messages[1]).toEqual({ role: "assistant", content: "", toolCalls: [{ id: "call_a", name: "get_weather", arguments: "{}" }] });
    expect(backend.last?.messages[2]).toEqual({ role: "tool", content: "sunny", toolCallId: "call_a" });
  });

  it("refuses a tool message that answers no call, and a tool_choice naming no tool", async () => {
    const { post } = gateway();
    const orphan = await post("/v1/chat/completions", { model: "m", messages: [{ role: "tool", tool_call_id: "x", content: "1" }] });
    expect(orphan.status).toBe(400);
    const named = await post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "w" }], tools: [weatherTool], tool_choice: { type: "function", function: { name: "nope" } } });
    expect(named.status).toBe(400);
    expect(((await named.json()) as { error: { param: string } }).error.param).toBe("tool_choice");
  });
});

describe("logprobs", () => {
  it("chat: one content entry per token with its top_logprobs, streamed and not", async () => {
    const { post, backend } = gateway();
    const res = await post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }], logprobs: true, top_logprobs: 1 });
    const body = (await res.json()) as { choices: { logprobs: { content: { token: string; top_logprobs: unknown[] }[] } }[] };
    expect(backend.last?.topLogprobs).toBe(1);
    expect(body.choices[0]?.logprobs.content.map((c) => c.token)).toEqual(["Hi", " there"]);
    expect(body.choices[0]?.logprobs.content[0]?.top_logprobs).toHaveLength(1);
    const streamed = sseData(await (await post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }], logprobs: true, stream: true })).text()) as {
      choices: { logprobs: { content: unknown[] } | null }[];
    }[];
    expect(streamed.flatMap((c) => c.choices[0]?.logprobs?.content ?? [])).toHaveLength(2);
  });

  it("completions: the legacy parallel arrays", async () => {
    const { post } = gateway();
    const body = (await (await post("/v1/completions", { model: "m", prompt: "x", logprobs: 1 })).json()) as { choices: { logprobs: Record<string, unknown[]> }[] };
    expect(body.choices[0]?.logprobs["tokens"]).toEqual(["Hi", " there"]);
    expect(body.choices[0]?.logprobs["token_logprobs"]).toEqual([-0.5, -0.5]);
    expect(body.choices[0]?.logprobs["text_offset"]).toEqual([0, 2]);
  });

  it("top_logprobs above 20, or without logprobs, is a 400", async () => {
    const { post } = gateway();
    expect((await post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }], logprobs: true, top_logprobs: 21 })).status).toBe(400);
    expect((await post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }], top_logprobs: 2 })).status).toBe(400);
  });
});

describe("parameters", () => {
  it("penalties and logit_bias reach the backend", async () => {
    const { post, backend } = gateway();
    await post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }], frequency_penalty: 0.5, presence_penalty: -1, logit_bias: { "42": -100 } });
    expect(backend.last).toMatchObject({ frequencyPenalty: 0.5, presencePenalty: -1, logitBias: { 42: -100 } });
  });

  it("unsupported parameters are a 400 unsupported_param naming them; their off values pass", async () => {
    const { post } = gateway();
    const cases: [string, Record<string, unknown>, string][] = [
      ["/v1/embeddings", { model: "m", input: "x", dimensions: 8 }, "dimensions"],
      ["/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }], audio: { voice: "alloy" } }, "audio"],
      ["/v1/completions", { model: "m", prompt: "x", echo: true }, "echo"],
      ["/v1/responses", { model: "m", input: "x", previous_response_id: "resp_1" }, "previous_response_id"],
    ];
    for (const [path, body, param] of cases) {
      const res = await post(path, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string; param: string } }).error).toMatchObject({ code: "unsupported_param", param });
    }
    expect((await post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }], audio: null, service_tier: "auto" })).status).toBe(200);
  });
});

describe("POST /v1/responses", () => {
  it("answers a text input with a message output item, usage and a signature", async () => {
    const { post, backend } = gateway();
    const res = await post("/v1/responses", { model: "m", input: "hello", instructions: "be brief", max_output_tokens: 2 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & { output: { type: string; content: { type: string; text: string }[] }[] };
    expect(body["object"]).toBe("response");
    expect(body["status"]).toBe("incomplete");
    expect(body["id"]).toMatch(/^resp_/);
    expect(body.output[0]?.content[0]).toMatchObject({ type: "output_text", text: "Hi there" });
    expect(body["usage"]).toMatchObject({ input_tokens: 4, output_tokens: 3, total_tokens: 7 });
    expect(backend.last?.messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: "hello" },
    ]);
    expect(backend.last?.maxTokens).toBe(2);
    const sig = JSON.parse(res.headers.get("x-cloister-signature") ?? "{}") as Parameters<typeof verifySignedText>[0];
    expect(verifySignedText(sig)).toBe(true);
    expect(res.headers.get("x-request-id")).toBe(body["id"]);
  });

  it("turns function_call and function_call_output items into the chat history, and answers calls as function_call items", async () => {
    const { post, backend } = gateway();
    const input = [
      { role: "user", content: [{ type: "input_text", text: "w?" }] },
      { type: "function_call", call_id: "call_a", name: "get_weather", arguments: "{}" },
      { type: "function_call_output", call_id: "call_a", output: "sunny" },
    ];
    const res = await post("/v1/responses", { model: "m", input, tools: [{ type: "function", name: "get_weather", parameters: { type: "object", properties: {} } }] });
    const body = (await res.json()) as { output: Record<string, unknown>[] };
    expect(backend.last?.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"]);
    expect(body.output).toEqual([expect.objectContaining({ type: "function_call", call_id: "call_a", name: "get_weather", arguments: '{"city":"Paris"}', status: "completed" })]);
  });

  it("streams the documented events in order, ending with response.completed and no [DONE]", async () => {
    const { post } = gateway();
    const text = await (await post("/v1/responses", { model: "m", input: "hello", stream: true })).text();
    const events = sseData(text);
    expect(events.map((e) => e["type"])).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((e) => e["sequence_number"])).toEqual(events.map((_, i) => i));
    expect(text).toContain("event: response.completed\n");
    expect(text).not.toContain("[DONE]");
    const done = events.at(-1) as { response: { output: { content: { text: string }[] }[]; usage: { output_tokens: number } } };
    expect(done.response.output[0]?.content[0]?.text).toBe("Hi there");
    expect(done.response.usage.output_tokens).toBe(3);
  });

  it("streams a function call as output_item.added, arguments deltas and done", async () => {
    const { post } = gateway();
    const events = sseData(await (await post("/v1/responses", { model: "m", input: "w", stream: true, tools: [{ type: "function", name: "get_weather" }] })).text());
    expect(events.map((e) => e["type"])).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events[5]?.["arguments"]).toBe('{"city":"Paris"}');
  });
});

describe("HTTP details", () => {
  it("GET /v1/models/{id} retrieves one model; the list has owned_by and max_model_len; unknown ids are 404", async () => {
    const { app } = gateway();
    expect(await (await app.request("/v1/models/m")).json()).toEqual({ id: "m", object: "model", created: 1, owned_by: "cloister", max_model_len: 4096 });
    expect(((await (await app.request("/v1/models")).json()) as { data: unknown[] }).data[0]).toMatchObject({ owned_by: "cloister", max_model_len: 4096 });
    expect((await app.request("/v1/models/nope")).status).toBe(404);
  });

  it("every response carries x-request-id, errors included", async () => {
    const { app, post } = gateway();
    const ok = await post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }] });
    expect(ok.headers.get("x-request-id")).toBe(((await ok.json()) as { id: string }).id);
    expect((await post("/v1/chat/completions", { model: "m" })).headers.get("x-request-id")).toMatch(/^chatcmpl-/);
    expect((await app.request("/v1/models")).headers.get("x-request-id")).toBeTruthy();
  });

  it("a 429 says Retry-After", async () => {
    const { post } = gateway({ limits: { maxConcurrent: 1 } });
    const first = post("/v1/chat/completions", { model: "slow", messages: [{ role: "user", content: "x" }], stream: true });
    const r1 = await first;
    const r2 = await post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }] });
    expect(r2.status).toBe(429);
    expect(r2.headers.get("retry-after")).toBe("1");
    await r1.body?.cancel();
  });

  it("a non-streamed request past the node's time limit is a 408 request_timeout", async () => {
    const { post } = gateway({ limits: { requestTimeoutMs: 200 } });
    const res = await post("/v1/chat/completions", { model: "slow", messages: [{ role: "user", content: "x" }] });
    expect(res.status).toBe(408);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "request_timeout" });
  });

  it("CORS is off by default: a preflight gets no CORS headers", async () => {
    const { app } = gateway();
    const res = await app.request("/v1/chat/completions", { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("with --cors-origin, a preflight from that origin is answered and answers expose the signature; other origins get nothing", async () => {
    const { app, post } = gateway({ corsOrigins: ["https://app.example"] });
    const pre = await app.request("/v1/chat/completions", {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "Authorization, content-type, x-stainless-os, bad header, x(y)" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("https://app.example");
    // What the page asks for (SDKs send headers of their own), minus what is not a header name.
    expect(pre.headers.get("access-control-allow-headers")).toBe("authorization, content-type, x-stainless-os");
    expect(pre.headers.get("access-control-allow-credentials")).toBeNull();
    const res = await post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }] }, { origin: "https://app.example" });
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-expose-headers")).toContain("x-cloister-signature");
    const other = await post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }] }, { origin: "https://evil.example" });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});
