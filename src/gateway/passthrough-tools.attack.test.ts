/**
 * Metering of a streamed tool call passed through to an upstream that sends no `usage`
 * (the client did not ask for stream_options.include_usage): the estimate counted
 * `content`/`text` chunks only, so an answer made wholly of tool-call arguments, which a
 * required tool_choice gives, was metered at 0 tokens.
 */
import { describe, expect, it } from "vitest";
import { openSqliteStore } from "../store/sqlite.js";
import { createGateway } from "./app.js";
import { echoTee, passthroughOnly } from "./test-fakes.js";

const enc = new TextEncoder();
const frame = (delta: unknown) => `data: ${JSON.stringify({ id: "up-1", object: "chat.completion.chunk", choices: [{ index: 0, delta }] })}\n\n`;
const FRAMES = [
  frame({ role: "assistant", tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }] }),
  ...['{"city"', ': "Pa', 'ris"}'].map((a) => frame({ tool_calls: [{ index: 0, function: { arguments: a } }] })),
  "data: [DONE]\n\n",
];

describe("pass-through tool-call streams", () => {
  it("are metered by their argument chunks when the upstream sends no usage", async () => {
    const backend = passthroughOnly(async (): Promise<Response> => new Response(new ReadableStream<Uint8Array>({ start(ctrl) { for (const f of FRAMES) ctrl.enqueue(enc.encode(f)); ctrl.close(); } }), { status: 200, headers: { "content-type": "text/event-stream" } }));
    const store = openSqliteStore({ path: ":memory:" });
    const app = createGateway({ backend, tee: echoTee, store, authRequired: false });
    const body = { model: "m", stream: true, messages: [{ role: "user", content: "weather?" }], tools: [{ type: "function", function: { name: "get_weather" } }], tool_choice: "required" };
    const res = await app.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect(await res.text()).toContain("Pa");
    const id = res.headers.get("x-request-id");
    let row = (await store.listUsage()).find((u) => u.requestId === id);
    for (let i = 0; i < 50 && row?.status === "in_flight"; i++) {
      await new Promise((r) => setTimeout(r, 10));
      row = (await store.listUsage()).find((u) => u.requestId === id);
    }
    expect(row).toMatchObject({ status: "ok", completionTokens: 3 });
  });
});
