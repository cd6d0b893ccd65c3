import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { sharedPath } from "../../util/shared.js";
import type { ChatRequest, GenerationEvent, InferenceBackend } from "../backend.js";
import { createLlamaBackend } from "./backend.js";
import { forcedCallParser } from "./tools.js";

const stories = sharedPath("models", "stories260K.gguf");

const weather = { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string", maxLength: 16 }, days: { type: "integer" } }, required: ["city", "days"] } };
const time = { name: "get_time", parameters: { type: "object", properties: { zone: { type: "string", enum: ["UTC", "CET"] } }, required: ["zone"] } };

async function drain(events: AsyncIterable<GenerationEvent>) {
  const calls: { id: string; name: string; args: string; pieces: number }[] = [];
  let text = "";
  let logprobs = 0;
  let done: Extract<GenerationEvent, { type: "done" }> | null = null;
  for await (const e of events) {
    if (e.type === "delta") (text += e.text), (logprobs += e.logprobs?.length ?? 0);
    else if (e.type === "tool_call") {
      const c = (calls[e.index] ??= { id: e.id ?? "", name: e.name ?? "", args: "", pieces: 0 });
      c.args += e.argumentsDelta;
      c.pieces++;
    } else done = e;
  }
  return { calls, text, logprobs, done };
}

describe("forced-call stream parser", () => {
  it("streams the inner arguments object of a {name, arguments} answer, whatever the chunking", () => {
    const whole = '{ "name": "get_time", "arguments": {"zone": "UTC", "x": {"y": 1}} }';
    for (const size of [1, 3, 7, whole.length]) {
      const p = forcedCallParser([weather, time]);
      const out = [];
      for (let i = 0; i < whole.length; i += size) out.push(...p.push(whole.slice(i, i + size)));
      out.push(...p.end());
      expect(out[0]?.name).toBe("get_time");
      expect(JSON.parse(out.map((e) => e.argumentsDelta).join(""))).toEqual({ zone: "UTC", x: { y: 1 } });
    }
  });
});

describe.skipIf(!stories)(`tool calling on stories260K, a model with no chat template${stories ? "" : " (skipped: ../shared/models/stories260K.gguf missing)"}`, () => {
  let backend: InferenceBackend;
  beforeAll(async () => {
    backend = await createLlamaBackend({ modelPath: stories ?? "", threads: 1, parallel: 1, contextSize: 512 });
  });
  afterAll(() => backend?.close());
  const ask = (extra: Partial<ChatRequest>): ChatRequest => ({ model: "stories260K", messages: [{ role: "user", content: "What is the weather in Paris?" }], maxTokens: 60, temperature: 0, ...extra });

  it("a named tool_choice returns arguments valid under the function's schema, streamed in pieces, finish tool_calls", async () => {
    const r = await drain(backend.chat(ask({ tools: [weather, time], toolChoice: { name: "get_weather" } })));
    expect(r.calls).toHaveLength(1);
    const [call] = r.calls;
    expect(call?.name).toBe("get_weather");
    expect(call?.id).toMatch(/^call_/);
    const args = JSON.parse(call?.args ?? "") as Record<string, unknown>;
    expect(typeof args["city"]).toBe("string");
    expect(Number.isInteger(args["days"])).toBe(true);
    expect(call?.pieces).toBeGreaterThan(1);
    expect(r.done?.finishReason).toBe("tool_calls");
  });

  it("tool_choice required picks one of the tools and fills its schema", async () => {
    const r = await drain(backend.chat(ask({ tools: [weather, time], toolChoice: "required", maxTokens: 200 })));
    expect(r.calls).toHaveLength(1);
    const [call] = r.calls;
    expect(["get_weather", "get_time"]).toContain(call?.name);
    const args = JSON.parse(call?.args ?? "") as Record<string, unknown>;
    if (call?.name === "get_time") expect(["UTC", "CET"]).toContain(args["zone"]);
    else expect(typeof args["city"]).toBe("string");
    expect(r.done?.finishReason).toBe("tool_calls");
  });

  it("tool_choice none answers in text without calling", async () => {
    const r = await drain(backend.chat(ask({ tools: [weather], toolChoice: "none", maxTokens: 8 })));
    expect(r.calls).toHaveLength(0);
    expect(r.text.length).toBeGreaterThan(0);
    expect(r.done?.finishReason).toBe("length");
  });

  it("answers a history holding an assistant tool call and the tool's result", async () => {
    const r = await drain(
      backend.chat(
        ask({
          messages: [
            { role: "user", content: "Weather?" },
            { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Paris","days":1}' }] },
            { role: "tool", toolCallId: "call_1", content: '{"temp":20}' },
          ],
          maxTokens: 8,
        }),
      ),
    );
    expect(r.text.length).toBeGreaterThan(0);
    expect(r.done?.usage.promptTokens).toBeGreaterThan(10);
  });

  it("auto with tool documentation too long for a 512-token context is a context overflow, not a crash", async () => {
    await expect(drain(backend.chat(ask({ tools: [weather, time], toolChoice: "auto" })))).rejects.toMatchObject({ code: "CONTEXT_OVERFLOW" });
  });

  it("logprobs: one entry per generated token, each with the asked number of alternatives at temperature 0", async () => {
    const events = backend.complete({ model: "stories260K", prompt: "Once upon a time", temperature: 0, maxTokens: 6, topLogprobs: 3 });
    let n = 0;
    let text = "";
    for await (const e of events) {
      if (e.type !== "delta") continue;
      text += e.text;
      for (const lp of e.logprobs ?? []) {
        n++;
        expect(lp.top).toHaveLength(3);
        expect(lp.logprob).toBeLessThanOrEqual(0);
        // Greedy: the chosen token is the most likely one.
        expect(lp.top[0]?.token).toBe(lp.token);
      }
    }
    expect(n).toBe(6);
    expect(text.startsWith(", there was")).toBe(true);
  });

  it("logit_bias -100 bans the token the model would otherwise choose; +100 forces one", async () => {
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: stories ?? "" });
    const comma = model.tokenize("Once upon a time,").at(-1) ?? -1;
    const the = model.tokenize("Once upon a time the").at(-1) ?? -1;
    await model.dispose();
    const req = { model: "stories260K", prompt: "Once upon a time", temperature: 0, maxTokens: 2 } as const;
    expect((await drain(backend.complete(req))).text.startsWith(",")).toBe(true);
    expect((await drain(backend.complete({ ...req, logitBias: { [comma]: -100 } }))).text.startsWith(",")).toBe(false);
    expect((await drain(backend.complete({ ...req, maxTokens: 1, logitBias: { [the]: 100 } }))).text.trim()).toBe("the");
  });

  it("refuses a logit_bias token outside the vocabulary", async () => {
    await expect(drain(backend.complete({ model: "stories260K", prompt: "x", maxTokens: 1, logitBias: { 999999: 1 } }))).rejects.toMatchObject({ code: "UNSUPPORTED_PARAM" });
  });

  it("a presence penalty changes a greedy answer that repeats itself", async () => {
    const req = { model: "stories260K", prompt: "Once upon a time", temperature: 0, maxTokens: 40 } as const;
    const plain = await drain(backend.complete(req));
    const penalised = await drain(backend.complete({ ...req, presencePenalty: 2, frequencyPenalty: 2 }));
    expect(penalised.text).not.toBe(plain.text);
  });
});
