/**
 * Usage rows of /v1/responses: every request that opened one closes it with the status and
 * the token counts of what happened, whether it streamed, finished, failed mid-way, was
 * cut off by its client or was refused by the backend after the row was opened.
 */
import { describe, expect, it } from "vitest";
import { InferenceError } from "../errors.js";
import { InferenceCode, type ChatRequest, type GenerationEvent, type InferenceBackend } from "../inference/backend.js";
import { openSqliteStore } from "../store/sqlite.js";
import { createGateway } from "./app.js";
import { echoTee } from "./test-fakes.js";

const usage = (n: number) => ({ promptTokens: 5, completionTokens: n });

/** "ok": two deltas; "fail": one delta, then a failure; "slow": deltas until aborted; "refuse": a 400 at the first next(). */
function scripted(): InferenceBackend {
  async function* chat(r: ChatRequest): AsyncGenerator<GenerationEvent> {
    if (r.model === "refuse") throw new InferenceError(InferenceCode.INVALID_SCHEMA, "bad schema");
    yield { type: "delta", text: "Hi", usage: usage(1) };
    if (r.model === "fail") throw new InferenceError(InferenceCode.GENERATION_FAILED, "generation failed");
    if (r.model === "slow") {
      for (let i = 2; !r.signal?.aborted; i++) {
        await new Promise((res) => setTimeout(res, 5));
        yield { type: "delta", text: ".", usage: usage(i) };
      }
      throw new InferenceError(InferenceCode.CANCELLED, "cancelled");
    }
    yield { type: "delta", text: " there", usage: usage(2) };
    yield { type: "done", finishReason: "stop", usage: usage(2) };
  }
  const models = ["ok", "fail", "slow", "refuse"].map((id) => ({ id, ownedBy: "cloister", created: 1, maxModelLen: 4096 }));
  return { kind: "llama", listModels: async () => models, chat, complete: () => chat({ model: "ok", messages: [] }), embed: async () => ({ vectors: [[1]], usage: usage(0) }), close: async () => {} };
}

describe("usage rows of /v1/responses", () => {
  const store = openSqliteStore({ path: ":memory:" });
  const app = createGateway({ backend: scripted(), tee: echoTee, store, authRequired: false });
  const post = (model: string, stream: boolean, signal?: AbortSignal) =>
    app.request("/v1/responses", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, input: "hi", stream }), ...(signal ? { signal } : {}) });
  const rowOf = async (res: Response) => {
    const id = res.headers.get("x-request-id") ?? "";
    // Rows close after the body ends; give the end-of-stream hooks a turn.
    for (let i = 0; i < 50; i++) {
      const row = (await store.listUsage()).find((u) => u.requestId === id);
      if (row && row.status !== "in_flight") return row;
      await new Promise((r) => setTimeout(r, 10));
    }
    return (await store.listUsage()).find((u) => u.requestId === id);
  };

  it.each([false, true])("a finished answer (stream: %s): ok, with its counts, on the responses route", async (stream) => {
    const res = await post("ok", stream);
    await res.text();
    expect(await rowOf(res)).toMatchObject({ status: "ok", route: "/v1/responses", promptTokens: 5, completionTokens: 2 });
  });

  it("a stream that fails mid-way: error, with the tokens generated before", async () => {
    const res = await post("fail", true);
    const text = await res.text();
    expect(text).toContain("event: error");
    expect(await rowOf(res)).toMatchObject({ status: "error", completionTokens: 1 });
  });

  it("a non-streamed answer that fails: a 500 body without internals, row error", async () => {
    const res = await post("fail", false);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { message: "generation failed", type: "server_error", param: null, code: "generation_failed" } });
    expect(await rowOf(res)).toMatchObject({ status: "error" });
  });

  it("a refusal from the backend after the row opened: closed, not left in_flight", async () => {
    const res = await post("refuse", false);
    expect(res.status).toBe(400);
    const row = await rowOf(res);
    expect(row?.status).not.toBe("in_flight");
  });

  it("a stream its client cuts off: cancelled, with the tokens generated so far", async () => {
    const ac = new AbortController();
    const res = await post("slow", true, ac.signal);
    const reader = res.body?.getReader();
    // The stream is pulled: each read hands on one more piece (head, then a delta each).
    for (let i = 0; i < 4; i++) await reader?.read();
    ac.abort();
    await reader?.cancel().catch(() => undefined);
    const row = await rowOf(res);
    expect(row?.status).toBe("cancelled");
    expect(row?.completionTokens).toBeGreaterThanOrEqual(2);
  });

  it("cut by the node's own time limit: error, streamed or not, with the tokens generated so far", async () => {
    const limited = openSqliteStore({ path: ":memory:" });
    const slowApp = createGateway({ backend: scripted(), tee: echoTee, store: limited, authRequired: false, limits: { requestTimeoutMs: 60 } });
    for (const stream of [true, false]) {
      const res = await slowApp.request("/v1/responses", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "slow", input: "hi", stream }) });
      const text = await res.text();
      expect(text).toContain("request_timeout");
      const id = res.headers.get("x-request-id") ?? "";
      let row = (await limited.listUsage()).find((u) => u.requestId === id);
      for (let i = 0; i < 50 && row?.status === "in_flight"; i++) {
        await new Promise((r) => setTimeout(r, 10));
        row = (await limited.listUsage()).find((u) => u.requestId === id);
      }
      expect(row?.status, `stream: ${stream}`).toBe("error");
      if (stream) expect(row?.completionTokens).toBeGreaterThanOrEqual(2);
    }
  });
});
