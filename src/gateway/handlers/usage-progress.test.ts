import { describe, expect, it } from "vitest";
import type { GenerationEvent, InferenceBackend } from "../../inference/backend.js";
import { openSqliteStore } from "../../store/sqlite.js";
import { createGateway } from "../app.js";
import { createUsageProgress } from "./usage-progress.js";
import { echoTee } from "../test-fakes.js";

/** Streams two deltas with running usage, then hangs until cancelled. */
function hangingBackend(): InferenceBackend {
  async function* gen(signal?: AbortSignal): AsyncGenerator<GenerationEvent> {
    yield { type: "delta", text: "Once", usage: { promptTokens: 7, completionTokens: 1 } };
    yield { type: "delta", text: " upon", usage: { promptTokens: 7, completionTokens: 2 } };
    await new Promise<void>((resolve) => (signal?.aborted ? resolve() : signal?.addEventListener("abort", () => resolve())));
    yield { type: "delta", text: " never sent", usage: { promptTokens: 7, completionTokens: 3 } };
  }
  return {
    kind: "llama",
    listModels: async () => [{ id: "fake", ownedBy: "t", created: 1 }],
    chat: (r) => gen(r.signal),
    complete: (r) => gen(r.signal),
    close: async () => {},
  };
}

const tee = echoTee;

describe("metering of streams cut off before done", () => {
  it("records the tokens generated so far for a cancelled stream, not zero", async () => {
    const store = openSqliteStore({ path: ":memory:" });
    const app = createGateway({ backend: hangingBackend(), tee, store, authRequired: false });
    for (const [path, body] of [
      ["/v1/chat/completions", { model: "fake", stream: true, messages: [{ role: "user", content: "x" }] }],
      ["/v1/completions", { model: "fake", stream: true, prompt: "x" }],
    ] as const) {
      const res = await app.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const reader = res.body!.getReader();
      let seen = "";
      while (!seen.includes("upon")) seen += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
    }
    const rows = await store.listUsage();
    expect(rows.map((r) => [r.route, r.status, r.promptTokens, r.completionTokens])).toEqual([
      ["/v1/chat/completions", "cancelled", 7, 2],
      ["/v1/completions", "cancelled", 7, 2],
    ]);
    // The Prometheus counters count the same tokens (not zero).
    const metrics = await (await app.request("/metrics")).text();
    expect(metrics).toContain('cloister_tokens_total{model="fake",type="completion"} 4');
    expect(metrics).toContain('cloister_tokens_total{model="fake",type="prompt"} 14');
  });

  it("forgets a request once its row is closed, and ignores records for untracked ids", () => {
    const p = createUsageProgress();
    p.record("never-begun", { promptTokens: 1, completionTokens: 1 });
    expect(p.take("never-begun")).toBeUndefined();
    p.begin("r");
    p.record("r", { promptTokens: 2, completionTokens: 3 });
    expect(p.take("r")).toEqual({ promptTokens: 2, completionTokens: 3 });
    p.record("r", { promptTokens: 2, completionTokens: 4 });
    expect(p.take("r")).toBeUndefined();
  });
});

describe("running totals written as a stream goes (crash bound)", () => {
  it("writes at the first delta, then at most once per interval, and only for tracked requests", () => {
    let t = 0;
    const writes: [string, number][] = [];
    const p = createUsageProgress({ persist: (id, u) => void writes.push([id, u.completionTokens]), intervalMs: 1000, now: () => t });
    p.record("untracked", { promptTokens: 1, completionTokens: 1 });
    p.begin("r");
    for (let i = 1; i <= 30; i++) {
      t = i * 100; // a token every 100 ms for 3 s
      p.record("r", { promptTokens: 5, completionTokens: i });
    }
    expect(writes).toEqual([
      ["r", 1],
      ["r", 11],
      ["r", 21],
    ]);
    expect(p.take("r")).toEqual({ promptTokens: 5, completionTokens: 30 });
    p.record("r", { promptTokens: 5, completionTokens: 31 }); // after take: forgotten, not written
    expect(writes).toHaveLength(3);
  });
});
