import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { checkReportData } from "../attest/binding.js";
import type { TeeProvider } from "../attest/provider.js";
import type { AttestationReport } from "../attest/report/format.js";
import { InferenceError } from "../errors.js";
import { InferenceCode, type GenerationEvent, type InferenceBackend } from "../inference/backend.js";
import { verifySignedText } from "../seal/signing.js";
import { generateApiKey } from "../store/api-keys.js";
import { openSqliteStore } from "../store/sqlite.js";
import { fromHex, toHex } from "../util/bytes.js";
import { createGateway, type GatewayDeps } from "./app.js";

/** A tiny in-memory backend: "fake" says "Hello world"; "down" is unavailable; "slow" waits for its signal. */
function fakeBackend(): InferenceBackend & { lastSignal: AbortSignal | null; lastMax: number | undefined; lastSchema: unknown } {
  const state = { lastSignal: null as AbortSignal | null, lastMax: undefined as number | undefined, lastSchema: undefined as unknown };
  async function* gen(model: string, signal?: AbortSignal): AsyncGenerator<GenerationEvent> {
    if (model === "down") throw new InferenceError(InferenceCode.BACKEND_UNAVAILABLE, "backend is down");
    if (model !== "fake" && model !== "slow") throw new InferenceError(InferenceCode.MODEL_NOT_FOUND, `unknown model ${model}`);
    yield { type: "delta", text: "Hello" };
    if (model === "slow") {
      await new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        signal?.addEventListener("abort", () => resolve());
      });
      throw new InferenceError(InferenceCode.CANCELLED, "cancelled");
    }
    yield { type: "delta", text: " world" };
    yield { type: "done", finishReason: "stop", usage: { promptTokens: 3, completionTokens: 2 } };
  }
  return Object.assign(state, {
    kind: "llama" as const,
    listModels: async () => ["fake", "slow", "down"].map((id) => ({ id, ownedBy: "test", created: 1 })),
    chat: (r: Parameters<InferenceBackend["chat"]>[0]) => {
      state.lastSignal = r.signal ?? null;
      state.lastMax = r.maxTokens;
      state.lastSchema = r.jsonSchema;
      return gen(r.model, r.signal);
    },
    complete: (r: Parameters<InferenceBackend["complete"]>[0]) => gen(r.model, r.signal),
    close: async () => {},
  });
}

/** Fake TEE: echoes report_data inside a fake "quote". */
const fakeTee: TeeProvider = {
  name: "fake",
  simulated: true,
  getQuote: async (rd) => ({ tee: "simulated", simulated: true, quote: rd, certChain: null, eventLog: [] }),
  getGpuEvidence: async (nonce) => JSON.stringify({ nonce: toHex(nonce) }),
};

function setup(over: Partial<GatewayDeps> = {}) {
  const store = openSqliteStore({ path: ":memory:" });
  const backend = fakeBackend();
  const app = createGateway({ backend, tee: fakeTee, store, authRequired: false, ...over });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { app, store, backend, post };
}

const chat = { model: "fake", messages: [{ role: "user", content: "hi" }] };

describe("gateway OpenAI API", () => {
  it("answers a chat completion with an id, usage and a signature over both bodies", async () => {
    const { post, app } = setup();
    const reqBody = JSON.stringify(chat);
    const res = await post("/v1/chat/completions", reqBody);
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const json = JSON.parse(new TextDecoder().decode(bytes));
    expect(json.id).toMatch(/^chatcmpl-/);
    expect(res.headers.get("x-cloister-request-id")).toBe(json.id);
    expect(json.choices[0].message).toEqual({ role: "assistant", content: "Hello world" });
    expect(json.usage).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    const sig = JSON.parse(res.headers.get("x-cloister-signature") ?? "{}");
    expect(sig.text).toBe(`${toHex(sha256(new TextEncoder().encode(reqBody)))}:${toHex(sha256(bytes))}`);
    expect(verifySignedText(sig)).toBe(true);
    const stored = await (await app.request(`/v1/signature/${json.id}`)).json();
    expect(stored).toEqual(sig);
  });

  it("keeps a header an outer middleware sets in place on a non-streamed answer, beside the signature and request id", async () => {
    const plugin = async (c: { res: Response }, next: () => Promise<void>): Promise<void> => {
      await next();
      c.res.headers.set("x-plugin", "1");
    };
    const { post } = setup({ middleware: { outer: [plugin] } });
    const res = await post("/v1/chat/completions", chat);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-plugin")).toBe("1");
    expect(res.headers.get("x-cloister-signature")).not.toBeNull();
    expect(res.headers.get("x-cloister-request-id")).toMatch(/^chatcmpl-/);
  });

  it("streams SSE chunks ending in [DONE] with usage when asked, and signs the exact bytes", async () => {
    const { post, app } = setup();
    const res = await post("/v1/chat/completions", { ...chat, stream: true, stream_options: { include_usage: true } }, { "X-Cloister-Signing-Algo": "ed25519" });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const bytes = new Uint8Array(await res.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    const events = text.split("\n\n").filter(Boolean).map((l) => l.replace(/^data: /, ""));
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("Hello world");
    expect(chunks.at(-1).usage).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    const id = chunks[0].id;
    const sig = await (await app.request(`/v1/signature/${id}?signing_algo=ed25519`)).json();
    expect(sig.signing_algo).toBe("ed25519");
    expect(sig.text.split(":")[1]).toBe(toHex(sha256(bytes)));
    expect(verifySignedText(sig)).toBe(true);
    expect((await app.request(`/v1/signature/${id}?signing_algo=ecdsa`)).status).toBe(404);
  });

  it("serves text completions that continue the prompt", async () => {
    const { post } = setup();
    const json = await (await post("/v1/completions", { model: "fake", prompt: "Once", max_tokens: 5 })).json();
    expect(json.id).toMatch(/^cmpl-/);
    expect(json.object).toBe("text_completion");
    expect(json.choices[0].text).toBe("Hello world");
  });

  it("refuses a __proto__ key, plain or \\u-escaped, which zod's loose objects would make the prototype of the parsed body (unvalidated max_tokens)", async () => {
    const { post, backend } = setup({ passthrough: false });
    const msgs = JSON.stringify([{ role: "user", content: "hi" }]);
    for (const key of ["__proto__", "\\u005f_proto__"]) {
      const res = await post("/v1/chat/completions", `{"model":"fake","messages":${msgs},"${key}":{"max_tokens":-5}}`);
      expect(res.status).toBe(400);
      expect((await res.json()).error.param).toBe("__proto__");
    }
    // Nested, where z.record skipped it without checking the key.
    const nested = await post("/v1/chat/completions", `{"model":"fake","messages":${msgs},"logit_bias":{"__proto__":{"x":1},"1":5}}`);
    expect(nested.status).toBe(400);
    expect(backend.lastMax).toBeUndefined();
  });

  it("passes max_completion_tokens and json_schema through to the backend", async () => {
    const { post, backend } = setup();
    const schema = { type: "object", properties: { a: { type: "string" } } };
    await post("/v1/chat/completions", { ...chat, max_tokens: 9, max_completion_tokens: 7, response_format: { type: "json_schema", json_schema: { name: "x", schema } } });
    expect(backend.lastMax).toBe(7);
    expect(backend.lastSchema).toEqual(schema);
  });

  it("lists models", async () => {
    const { app } = setup();
    const json = await (await app.request("/v1/models")).json();
    expect(json.data[0]).toEqual({ id: "fake", object: "model", created: 1, owned_by: "test" });
  });
});

describe("gateway errors are OpenAI-shaped with the right status", () => {
  const cases: Array<[string, unknown, number, string, string | null]> = [
    ["bad JSON", "{nope", 400, "invalid_json", null],
    ["a non-object body", "[1]", 400, "invalid_json", null],
    ["missing messages", { model: "fake" }, 400, "invalid_params", "messages"],
    ["temperature out of range", { ...chat, temperature: 9 }, 400, "invalid_params", "temperature"],
    ["n=2", { ...chat, n: 2 }, 400, "unsupported_param", "n"],
    ["an unknown model", { ...chat, model: "nope" }, 404, "model_not_found", "model"],
    ["an unavailable backend", { ...chat, model: "down" }, 503, "backend_unavailable", null],
  ];
  for (const [what, body, status, code, param] of cases) {
    it(`answers ${status} ${code} for ${what}`, async () => {
      const { post } = setup();
      const res = await post("/v1/chat/completions", body);
      expect(res.status).toBe(status);
      const json = await res.json();
      expect(json.error.code).toBe(code);
      expect(json.error.param).toBe(param);
      expect(typeof json.error.message).toBe("string");
      expect(typeof json.error.type).toBe("string");
    });
  }

  it("answers 413 for a body over the limit", async () => {
    const { post } = setup({ limits: { maxBodyBytes: 100 } });
    const res = await post("/v1/chat/completions", { ...chat, messages: [{ role: "user", content: "x".repeat(200) }] });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe("body_too_large");
  });

  it("answers 429 over the concurrency limit and serves again once a slot frees", async () => {
    const { post } = setup({ limits: { maxConcurrent: 1 } });
    const first = await post("/v1/chat/completions", { ...chat, model: "slow", stream: true });
    expect(first.status).toBe(200);
    const second = await post("/v1/chat/completions", chat);
    expect(second.status).toBe(429);
    expect((await second.json()).error.type).toBe("rate_limit_error");
    await first.body?.cancel();
    expect((await post("/v1/chat/completions", chat)).status).toBe(200);
  });

  it("ends a stream that runs past the request time limit with a request_timeout error event", async () => {
    const { post, store } = setup({ limits: { requestTimeoutMs: 50 } });
    const res = await post("/v1/chat/completions", { ...chat, model: "slow", stream: true });
    const text = await res.text();
    expect(text).toContain('"code":"request_timeout"');
    expect(text).not.toContain("[DONE]");
    // The node's own limit: an error, as for a whole answer past it (a client that left reads "cancelled").
    expect((await store.listUsage())[0]?.status).toBe("error");
  });

  it("answers 401 without a valid key and 200 with one; never crashes on garbage auth", async () => {
    const store = openSqliteStore({ path: ":memory:" });
    const { post } = setup({ store, authRequired: true });
    expect((await post("/v1/chat/completions", chat)).status).toBe(401);
    expect((await post("/v1/chat/completions", chat, { authorization: "Bearer sk-cloister-wrong" })).status).toBe(401);
    const k = generateApiKey();
    await store.createApiKey({ id: k.id, hash: k.hash, name: null, created: Date.now() });
    expect((await post("/v1/chat/completions", chat, { authorization: `Bearer ${k.key}` })).status).toBe(200);
    await store.revokeApiKey(k.id, Date.now());
    const res = await post("/v1/chat/completions", chat, { authorization: `Bearer ${k.key}` });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("invalid_api_key");
  });

  it("answers 404 OpenAI-shaped for unknown routes and unknown signature ids", async () => {
    const { app } = setup();
    expect((await (await app.request("/v1/nope")).json()).error.code).toBe("not_found");
    expect((await app.request("/v1/signature/chatcmpl-unknown")).status).toBe(404);
  });
});

describe("gateway metering and metrics", () => {
  it("meters usage per key and model, and cancels generation when a stream is abandoned", async () => {
    const { post, store, backend } = setup();
    await post("/v1/chat/completions", chat);
    const res = await post("/v1/chat/completions", { ...chat, model: "slow", stream: true });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect(backend.lastSignal?.aborted).toBe(true);
    const rows = await store.listUsage();
    expect(rows.map((r) => [r.model, r.status, r.promptTokens, r.completionTokens])).toEqual([
      ["fake", "ok", 3, 2],
      ["slow", "cancelled", 0, 0],
    ]);
  });

  it("exposes Prometheus metrics without any content", async () => {
    const { post, app } = setup();
    await post("/v1/chat/completions", { ...chat, messages: [{ role: "user", content: "SECRET-PROMPT" }] });
    const text = await (await app.request("/metrics")).text();
    expect(text).toContain('cloister_requests_total{route="/v1/chat/completions",status="200"} 1');
    expect(text).toContain('cloister_tokens_total{model="fake",type="completion"} 2');
    expect(text).not.toContain("SECRET");
    expect(text).not.toContain("Hello");
  });
});

describe("gateway attestation report", () => {
  it("binds the signer, E2E key, GPU evidence and nonce into report_data", async () => {
    const { app } = setup();
    const nonce = "ab".repeat(32);
    for (const algo of ["ecdsa", "ed25519"] as const) {
      const r = (await (await app.request(`/v1/attestation/report?nonce=${nonce}&signing_algo=${algo}`)).json()) as AttestationReport;
      expect(r.signing_algo).toBe(algo);
      expect(r.simulated).toBe(true);
      expect(r.request_nonce).toBe(nonce);
      const signer = algo === "ecdsa" ? fromHex(r.signing_address) : fromHex(r.signing_public_key);
      const keys = { signer, e2ePublicKey: fromHex(r.e2e_public_key), tlsSpki: null, gpuPayload: r.nvidia_payload };
      expect(checkReportData(fromHex(r.report_data), keys, fromHex(nonce))).toBeNull();
      expect(r.intel_quote).toBe(r.report_data);
    }
  });

  it("refuses a missing or malformed nonce with 400", async () => {
    const { app } = setup();
    expect((await app.request("/v1/attestation/report")).status).toBe(400);
    const res = await app.request("/v1/attestation/report?nonce=zz");
    expect(res.status).toBe(400);
    expect((await res.json()).error.param).toBe("nonce");
  });
});
