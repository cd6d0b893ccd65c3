/**
 * The clients people bring, against a real node serving stories260K (a model with no chat
 * template): the official openai SDK (4.x and the newest), the Vercel AI SDK (default
 * provider(model) = the Responses API, and .chat()), and LangChain's ChatOpenAI
 * (bindTools, withStructuredOutput). Each scenario runs directly and through
 * createVerifiedFetch (attested, sealed, every signature checked). A tiny model cannot
 * choose tools well, so tool calls are asked for with tool_choice required or named: the
 * grammar makes the arguments schema-valid whatever the model's quality.
 */
import { createOpenAI } from "@ai-sdk/openai";
import { ChatOpenAI } from "@langchain/openai";
import { generateText, jsonSchema, streamText, tool } from "ai";
import OpenAI4 from "openai4";
import OpenAI7 from "openai7";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { createLlamaBackend } from "../../src/inference/llama/backend.js";
import { sharedPath } from "../../src/util/shared.js";
import { startTestNode, type TestNode } from "./client-fixtures.js";

const stories = sharedPath("models", "stories260K.gguf");
const MODEL = "stories260K";
const params = {
  type: "object",
  properties: { city: { type: "string", maxLength: 12 }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
  required: ["city", "unit"],
  additionalProperties: false,
} as const;

/** What "schema-valid" means for `params`, checked independently of the grammar. */
function validArgs(v: unknown): boolean {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return Object.keys(o).sort().join(",") === "city,unit" && typeof o["city"] === "string" && o["city"].length <= 12 && (o["unit"] === "celsius" || o["unit"] === "fahrenheit");
}

const chatTool = { type: "function" as const, function: { name: "get_weather", description: "Weather in a city", parameters: params } };
const history = [
  { role: "user" as const, content: "Weather in Paris?" },
  { role: "assistant" as const, content: null, tool_calls: [{ id: "call_1", type: "function" as const, function: { name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' } }] },
  { role: "tool" as const, tool_call_id: "call_1", content: '{"temperature":21}' },
];

describe.skipIf(!stories)(`SDK compatibility on stories260K${stories ? "" : " (skipped: ../shared/models/stories260K.gguf missing)"}`, () => {
  let node: TestNode;
  beforeAll(async () => {
    // 2048 tokens: room for node-llama-cpp's tool documentation when tools travel with a tool result.
    const backend = await createLlamaBackend({ modelPath: stories ?? "", threads: 1, parallel: 2, contextSize: 2048 });
    node = await startTestNode({ backend });
  }, 60_000);
  afterAll(() => node?.close());

  const transports = [
    ["directly", () => ({ baseURL: `${node.url}/v1`, fetch: globalThis.fetch })],
    ["through createVerifiedFetch", () => ({ baseURL: `${node.url}/v1`, fetch: createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true }) })],
  ] as const;

  describe.each(transports)("%s", (_name, transport) => {
    for (const [label, Sdk] of [
      ["openai 4", OpenAI4],
      ["openai 7", OpenAI7],
    ] as const) {
      describe(label, () => {
        // One type for both majors (their request/response shapes for these calls are the same on the wire).
        const client = (): OpenAI7 => {
          const opts = { apiKey: "unused", maxRetries: 0, ...transport() };
          // openai 4 declares its own fetch type (node-fetch era); the function is the same.
          return Sdk === OpenAI4 ? (new OpenAI4(opts as unknown as ConstructorParameters<typeof OpenAI4>[0]) as unknown as OpenAI7) : new OpenAI7(opts);
        };

        it("a required tool call comes back with schema-valid arguments", async () => {
          const r = await client().chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Weather in Paris?" }], tools: [chatTool], tool_choice: "required", max_tokens: 200, temperature: 0 });
          const call = r.choices[0]?.message.tool_calls?.[0];
          expect(r.choices[0]?.finish_reason).toBe("tool_calls");
          expect(call && "function" in call ? call.function.name : "").toBe("get_weather");
          expect(validArgs(JSON.parse(call && "function" in call ? call.function.arguments : ""))).toBe(true);
        });

        it("streams a named tool call whose joined argument deltas are schema-valid", async () => {
          const stream = await client().chat.completions.create({
            model: MODEL,
            messages: [{ role: "user", content: "Weather?" }],
            tools: [chatTool],
            tool_choice: { type: "function", function: { name: "get_weather" } },
            max_tokens: 200,
            stream: true,
          });
          let args = "";
          let pieces = 0;
          for await (const chunk of stream) {
            for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) (args += tc.function?.arguments ?? ""), pieces++;
          }
          expect(pieces).toBeGreaterThan(2);
          expect(validArgs(JSON.parse(args))).toBe(true);
        });

        it("answers a history that ends in a tool result", async () => {
          const r = await client().chat.completions.create({ model: MODEL, messages: history, tools: [chatTool], max_tokens: 8 });
          expect(r.choices[0]?.message.content?.length ?? 0).toBeGreaterThan(0);
          expect(r.usage?.prompt_tokens ?? 0).toBeGreaterThan(20);
        });

        it("returns one logprobs entry per completion token with top_logprobs alternatives", async () => {
          const r = await client().chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Once upon a time" }], logprobs: true, top_logprobs: 3, max_tokens: 6, temperature: 0 });
          const content = r.choices[0]?.logprobs?.content ?? [];
          expect(content).toHaveLength(r.usage?.completion_tokens ?? -1);
          expect(content.every((t) => t.top_logprobs.length === 3)).toBe(true);
        });

        it("responses.create and its stream", async () => {
          const ask = { model: MODEL, input: "Once upon a time", instructions: "Tell a story.", max_output_tokens: 8, temperature: 0 };
          const r = await client().responses.create(ask);
          expect(r.output_text.length).toBeGreaterThan(0);
          expect(r.usage?.output_tokens).toBe(8);
          const stream = await client().responses.create({ ...ask, stream: true });
          let text = "";
          const types = new Set<string>();
          for await (const ev of stream) {
            types.add(ev.type);
            if (ev.type === "response.output_text.delta") text += ev.delta;
          }
          expect(text).toBe(r.output_text);
          expect(types.has("response.created")).toBe(true);
          expect(types.has("response.incomplete") || types.has("response.completed")).toBe(true);
        });

        it("responses.create with include logprobs returns one entry per output token with top_logprobs alternatives, whole and streamed", async () => {
          const ask = { model: MODEL, input: "Once upon a time", max_output_tokens: 6, temperature: 0, include: ["message.output_text.logprobs" as const], top_logprobs: 3 };
          const r = await client().responses.create(ask);
          const part = r.output.flatMap((o) => (o.type === "message" ? o.content : [])).find((c) => c.type === "output_text");
          const lps = part?.type === "output_text" ? (part.logprobs ?? []) : [];
          expect(lps).toHaveLength(r.usage?.output_tokens ?? -1);
          expect(lps.every((t) => t.top_logprobs.length === 3)).toBe(true);
          expect(lps.map((t) => t.token).join("")).toBe(r.output_text);
          let streamed = 0;
          for await (const ev of await client().responses.create({ ...ask, stream: true })) if (ev.type === "response.output_text.delta") streamed += ev.logprobs?.length ?? 0;
          expect(streamed).toBe(lps.length);
          // Without the include no logprobs come back, as from OpenAI (and no slower path runs).
          const plain = await client().responses.create({ model: MODEL, input: "Once upon a time", max_output_tokens: 6, temperature: 0, top_logprobs: 3 });
          const plainPart = plain.output.flatMap((o) => (o.type === "message" ? o.content : [])).find((c) => c.type === "output_text");
          expect(plainPart?.type === "output_text" ? plainPart.logprobs : null).toEqual([]);
        });

        it("responses.create with a required function tool returns a schema-valid function_call", async () => {
          const r = await client().responses.create({ model: MODEL, input: "Weather?", tools: [{ type: "function", name: "get_weather", parameters: params, strict: true }], tool_choice: "required", max_output_tokens: 200 });
          const call = r.output.find((o) => o.type === "function_call");
          expect(validArgs(JSON.parse(call?.type === "function_call" ? call.arguments : "null"))).toBe(true);
        });
      });
    }

    describe("Vercel AI SDK", () => {
      const provider = () => createOpenAI({ apiKey: "unused", ...transport() });
      const weather = tool({ description: "Weather in a city", inputSchema: jsonSchema<{ city: string; unit: string }>(params) });

      for (const [label, model] of [
        ["default provider(model): the Responses API", () => provider()(MODEL)],
        [".chat(model)", () => provider().chat(MODEL)],
      ] as const) {
        it(`${label}: a required tool call has schema-valid input`, async () => {
          const r = await generateText({ model: model(), prompt: "Weather in Paris?", tools: { get_weather: weather }, toolChoice: "required", maxOutputTokens: 200, maxRetries: 0 });
          expect(r.toolCalls[0]?.toolName).toBe("get_weather");
          expect(validArgs(r.toolCalls[0]?.input)).toBe(true);
        });

        it(`${label}: streams text`, async () => {
          const r = streamText({ model: model(), prompt: "Once upon a time", maxOutputTokens: 8, maxRetries: 0 });
          let text = "";
          for await (const t of r.textStream) text += t;
          expect(text.length).toBeGreaterThan(0);
        });
      }
    });

    describe("LangChain ChatOpenAI", () => {
      const chat = () => new ChatOpenAI({ model: MODEL, apiKey: "unused", maxRetries: 0, maxTokens: 200, configuration: transport() });

      it("bindTools with a named tool_choice returns schema-valid args", async () => {
        const msg = await chat().bindTools([chatTool], { tool_choice: "get_weather" }).invoke("Weather in Paris?");
        expect(msg.tool_calls?.[0]?.name).toBe("get_weather");
        expect(validArgs(msg.tool_calls?.[0]?.args)).toBe(true);
      });

      it("withStructuredOutput (function calling) returns a schema-valid object", async () => {
        const out = await chat().withStructuredOutput(params, { method: "functionCalling", name: "get_weather" }).invoke("Weather in Paris?");
        expect(validArgs(out)).toBe(true);
      });
    });
  });
});
