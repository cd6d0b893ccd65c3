import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import type { InferenceBackend } from "../../src/inference/backend.js";
import { createLlamaBackend } from "../../src/inference/llama/backend.js";
import { testModelPath } from "../fixtures/tiny-gguf.js";
import { startRecordingProxy, startTestNode, type RecordingProxy, type TestNode } from "./client-fixtures.js";

// The real node: gateway + simulator TEE + embedded llama.cpp (stories260K from ../shared,
// else the generated tiny model), on 127.0.0.1:0 behind a recording proxy.
let backend: InferenceBackend;
let node: TestNode;
let proxy: RecordingProxy;
let model: string;

beforeAll(async () => {
  const modelPath = await testModelPath();
  backend = await createLlamaBackend({ modelPath, threads: 1, parallel: 2, contextSize: 256 });
  model = (await backend.listModels())[0]?.id ?? "";
  node = await startTestNode({ backend, requireE2E: true });
  proxy = await startRecordingProxy(node.url);
});
afterAll(async () => {
  await proxy?.close();
  await node?.close();
  await backend?.close();
});

describe("the official openai SDK against a real llama.cpp node, sealed end to end", () => {
  it("streams a verified answer the proxy cannot read", async () => {
    const baseURL = `${proxy.url}/v1`;
    const openai = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0, fetch: createVerifiedFetch({ baseURL, allowSimulated: true }) });
    const prompt = "Once upon a time a secret heron named Quillfeather";
    const stream = await openai.chat.completions.create({ model, messages: [{ role: "user", content: prompt }], stream: true, max_tokens: 24, temperature: 0 });
    let content = "";
    for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? "";
    expect(content.length).toBeGreaterThan(0);
    const r = await openai.chat.completions.create({ model, messages: [{ role: "user", content: prompt }], max_tokens: 24, temperature: 0 });
    // Same greedy generation through both paths: the sealed stream and the sealed body agree.
    expect(r.choices[0]?.message.content).toBe(content);
    const wire = proxy.wire();
    expect(wire).not.toContain("Quillfeather");
    const probe = content.trim().slice(0, 16);
    if (probe.length >= 8) expect(wire).not.toContain(probe);
  });
});
