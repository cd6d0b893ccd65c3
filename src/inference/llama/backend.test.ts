import { getLlama, LlamaCompletion, LlamaLogLevel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedPath } from "../../util/shared.js";
import { tinyModelPath } from "../../../test/fixtures/tiny-gguf.js";
import type { GenerationEvent, InferenceBackend } from "../backend.js";
import { collect } from "../collect.js";
import { createLlamaBackend } from "./backend.js";

const stories = sharedPath("models", "stories260K.gguf");

describe.skipIf(!stories)(`llama backend on stories260K${stories ? "" : " (skipped: ../shared/models/stories260K.gguf missing)"}`, () => {
  let backend: InferenceBackend;
  beforeAll(async () => {
    backend = await createLlamaBackend({ modelPath: stories ?? "", threads: 1, parallel: 2, contextSize: 512 });
  });
  afterAll(() => backend?.close());

  it("completes 'Once upon a time' greedily with the story the model was trained on", async () => {
    const out = await collect(backend.complete({ model: "stories260K", prompt: "Once upon a time", temperature: 0, maxTokens: 12 }));
    expect(out.text.startsWith(", there was a little girl named Lily")).toBe(true);
    expect(out.finishReason).toBe("length");
    // BOS + O, n, ce, upon, a, time: the tokenizer's own count, not a word count.
    expect(out.usage).toEqual({ promptTokens: 7, completionTokens: 12 });
  });

  it("stops before a stop string and reports finish reason stop", async () => {
    const out = await collect(backend.complete({ model: "stories260K", prompt: "Once upon a time", temperature: 0, maxTokens: 40, stop: ["Lily"] }));
    // SPM puts the space inside "▁Lily", so it goes with the stop string.
    expect(out.text).toBe(", there was a little girl named");
    expect(out.finishReason).toBe("stop");
  });

  it("does not leak one request's context into the next", async () => {
    const req = { model: "stories260K", prompt: "The dog", temperature: 0, maxTokens: 16 } as const;
    const before = await collect(backend.complete(req));
    await collect(backend.chat({ model: "stories260K", messages: [{ role: "user", content: "A cat sat on the big red ball" }], temperature: 0, maxTokens: 16 }));
    await collect(backend.complete({ model: "stories260K", prompt: "Tom was sad because", temperature: 0, maxTokens: 16 }));
    const after = await collect(backend.complete(req));
    expect(after.text).toBe(before.text);
    expect(after.usage).toEqual(before.usage);
  });

  it("samples exactly as a plain node-llama-cpp completion of the same request", async () => {
    // What bench/inference.bench.ts compares against: same text means same sampling settings.
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: stories ?? "" });
    const context = await model.createContext({ sequences: 1, threads: 1, contextSize: 512 });
    try {
      const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
      let bareTokens = 0;
      const bare = await completion.generateCompletion("Once upon a time", { temperature: 0, maxTokens: 150, onToken: (t) => (bareTokens += t.length) });
      const ours = await collect(backend.complete({ model: "stories260K", prompt: "Once upon a time", temperature: 0, maxTokens: 150 }));
      expect(ours.text).toBe(bare);
      expect(ours.usage.completionTokens).toBe(bareTokens);
    } finally {
      await context.dispose();
      await model.dispose();
    }
  });

  it("gives every delta the running usage, never more than done reports", async () => {
    const events: GenerationEvent[] = [];
    for await (const e of backend.complete({ model: "stories260K", prompt: "Once upon a time", temperature: 0, maxTokens: 12 })) events.push(e);
    const done = events.at(-1);
    const deltas = events.filter((e) => e.type === "delta");
    expect(done?.type).toBe("done");
    expect(deltas.length).toBeGreaterThan(1);
    let last = 0;
    deltas.forEach((d, i) => {
      // At least as many tokens as deltas so far (a delta can carry several), rising.
      expect(d.usage?.completionTokens).toBeGreaterThanOrEqual(Math.max(i + 1, last));
      expect(d.usage?.promptTokens).toBe(7);
      last = d.usage?.completionTokens ?? 0;
    });
    if (done?.type === "done") expect(last).toBeLessThanOrEqual(done.usage.completionTokens);
  });

  it("forces JSON matching the schema through a grammar", async () => {
    const schema = { type: "object", properties: { name: { type: "string" } }, required: ["name"] };
    const out = await collect(backend.complete({ model: "stories260K", prompt: "Once upon a time", temperature: 0, maxTokens: 60, jsonSchema: schema }));
    const parsed: unknown = JSON.parse(out.text);
    expect(parsed).toEqual({ name: expect.any(String) });
  });
});

describe("llama backend on a generated random-weight model", () => {
  let backend: InferenceBackend;
  let single: InferenceBackend;
  beforeAll(async () => {
    const path = await tinyModelPath();
    backend = await createLlamaBackend({ modelPath: path, modelId: "tiny", threads: 1, parallel: 2 });
    single = await createLlamaBackend({ modelPath: path, modelId: "tiny", threads: 1, parallel: 1, maxQueue: 0 });
  });
  afterAll(async () => {
    await backend?.close();
    await single?.close();
  });

  it("lists the model under its id", async () => {
    expect((await backend.listModels()).map((m) => m.id)).toEqual(["tiny"]);
  });

  it("streams deltas and ends with one done whose usage counts the tokens", async () => {
    const events: GenerationEvent[] = [];
    for await (const e of backend.complete({ model: "tiny", prompt: "once upon a time", temperature: 0.8, seed: 7, maxTokens: 10 })) events.push(e);
    const done = events.at(-1);
    expect(done).toMatchObject({ type: "done", finishReason: "length", usage: { completionTokens: 10 } });
    expect(events.slice(0, -1).every((e) => e.type === "delta")).toBe(true);
    expect(events.filter((e) => e.type === "delta").length).toBeGreaterThan(1);
    if (done?.type === "done") expect(done.usage.promptTokens).toBeGreaterThan(1);
  });

  it("repeats the same output for the same seed", async () => {
    const req = { model: "tiny", prompt: "the sun", temperature: 0.9, seed: 42, maxTokens: 12 } as const;
    const a = await collect(backend.complete(req));
    const b = await collect(backend.complete(req));
    expect(b.text).toBe(a.text);
  });

  it("renders chat messages through the model's chat wrapper", async () => {
    const short = await collect(backend.chat({ model: "tiny", messages: [{ role: "user", content: "hi" }], maxTokens: 3 }));
    const long = await collect(
      backend.chat({ model: "tiny", messages: [{ role: "system", content: "be brief and kind" }, { role: "user", content: "hi" }], maxTokens: 3 }),
    );
    expect(short.usage.completionTokens).toBe(3);
    expect(long.usage.promptTokens).toBeGreaterThan(short.usage.promptTokens);
  });

  it("refuses a bad request where it is iterated, not where it is made, and takes no slot", async () => {
    const stream = single.complete({ model: "gpt-4", prompt: "x" });
    const it = stream[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
    // One sequence, no queue: BACKEND_BUSY here would mean the refused request kept it.
    const next = await collect(single.complete({ model: "tiny", prompt: "once", maxTokens: 2 }));
    expect(next.usage.completionTokens).toBe(2);
  });

  it("rejects an unknown model id with MODEL_NOT_FOUND", async () => {
    await expect(collect(backend.complete({ model: "gpt-4", prompt: "x" }))).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
    await expect(collect(backend.chat({ model: "gpt-4", messages: [] }))).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
  });

  it("rejects a JSON schema the grammar converter cannot handle with INVALID_SCHEMA", async () => {
    // node-llama-cpp alone would turn the first into a grammar for `null` and crash on the second.
    for (const jsonSchema of [{ type: "not-a-json-type" }, { enum: "x" }]) {
      await expect(collect(backend.complete({ model: "tiny", prompt: "x", maxTokens: 2, jsonSchema }))).rejects.toMatchObject({ code: "INVALID_SCHEMA" });
    }
  });

  it("rejects a prompt longer than the context with CONTEXT_OVERFLOW", async () => {
    const prompt = "the little girl ".repeat(400);
    await expect(collect(backend.complete({ model: "tiny", prompt, maxTokens: 2 }))).rejects.toMatchObject({ code: "CONTEXT_OVERFLOW" });
  });

  it("stops generating when the client aborts, and frees the sequence", async () => {
    const ac = new AbortController();
    let deltas = 0;
    const run = (async () => {
      for await (const e of single.complete({ model: "tiny", prompt: "once", temperature: 1, seed: 1, maxTokens: 400, signal: ac.signal })) {
        if (e.type === "delta" && ++deltas === 2) ac.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ code: "CANCELLED" });
    expect(deltas).toBeLessThan(50);
    // Only one sequence and no queue: this fails with BACKEND_BUSY if it was not returned.
    const next = await collect(single.complete({ model: "tiny", prompt: "once", maxTokens: 2 }));
    expect(next.usage.completionTokens).toBe(2);
  });

  it("frees the sequence when the consumer stops reading early", async () => {
    for await (const e of single.complete({ model: "tiny", prompt: "once", temperature: 1, seed: 1, maxTokens: 400 })) {
      if (e.type === "delta") break;
    }
    const next = await collect(single.complete({ model: "tiny", prompt: "once", maxTokens: 2 }));
    expect(next.finishReason).toBe("length");
  });

  it("has the sequence back in the pool by the time done arrives", async () => {
    const it = single.complete({ model: "tiny", prompt: "once", maxTokens: 3 })[Symbol.asyncIterator]();
    for (let ev = await it.next(); !ev.done && ev.value.type !== "done"; ev = await it.next());
    // The first iterator is never closed; with one sequence and no queue this would be BACKEND_BUSY.
    const next = await collect(single.complete({ model: "tiny", prompt: "once", maxTokens: 2 }));
    expect(next.usage.completionTokens).toBe(2);
  });

  it("answers BACKEND_BUSY when every sequence is taken and the queue is full", async () => {
    const ac = new AbortController();
    const held = single.complete({ model: "tiny", prompt: "once", temperature: 1, seed: 1, maxTokens: 400, signal: ac.signal })[Symbol.asyncIterator]();
    await held.next();
    await expect(collect(single.complete({ model: "tiny", prompt: "x", maxTokens: 1 }))).rejects.toMatchObject({ code: "BACKEND_BUSY" });
    await held.return?.(undefined);
  });

  it("generates on two sequences at once", async () => {
    const [a, b] = await Promise.all([
      collect(backend.complete({ model: "tiny", prompt: "once", maxTokens: 8 })),
      collect(backend.complete({ model: "tiny", prompt: "the sun", maxTokens: 8 })),
    ]);
    expect(a.usage.completionTokens + b.usage.completionTokens).toBe(16);
  });

  it("embeds each input into a vector of the model's width", async () => {
    const embed = backend.embed;
    expect(embed).toBeDefined();
    const res = await backend.embed?.("tiny", ["hello", "the little girl"]);
    expect(res?.vectors.map((v) => v.length)).toEqual([32, 32]);
    expect(res?.usage.promptTokens).toBeGreaterThan(2);
  });
});
