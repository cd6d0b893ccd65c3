import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { TeeProvider } from "../../attest/provider.js";
import type { InferenceBackend } from "../../inference/backend.js";
import { openSqliteStore } from "../../store/sqlite.js";
import type { Store } from "../../store/store.js";
import { createGateway } from "../app.js";
import { passthroughOnly } from "../test-fakes.js";

const tee: TeeProvider = {
  name: "fake",
  simulated: true,
  getQuote: async (rd) => ({ tee: "simulated", simulated: true, quote: rd, certChain: null, eventLog: [] }),
  getGpuEvidence: async () => "{}",
};

/** A pass-through backend whose upstream answers a fixed body, and records whether that body was released. */
function passthroughBackend(): InferenceBackend & { released: boolean } {
  const state = { released: false };
  return Object.assign(
    state,
    passthroughOnly(async (): Promise<Response> => {
      const body = new ReadableStream<Uint8Array>({
        start(ctrl) {
          ctrl.enqueue(new TextEncoder().encode('data: {"id":"up-1","choices":[{"delta":{"content":"hi"}}]}\n\n'));
        },
        cancel() {
          state.released = true;
        },
      });
      return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
    }),
  );
}

const chat = { model: "m", messages: [{ role: "user", content: "hi" }], stream: true };

describe("metering and the durable in_flight row", () => {
  it("hands a response on only once its in_flight row is committed, and refuses it when that write fails", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "metering-")), "cloister.db");
    const real = openSqliteStore({ path });
    let commits = 0;
    const store: Store = {
      ...real,
      startUsage: async (u) => {
        commits++;
        await real.startUsage(u);
        if (commits === 2) throw new Error("disk full");
      },
    };
    const backend = passthroughBackend();
    const app = createGateway({ backend, tee, store, authRequired: false });
    const ok = await app.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat) });
    expect(ok.status).toBe(200);
    const id = ok.headers.get("x-cloister-request-id") ?? "";
    // Committed (another connection sees it) by the time the response was handed on.
    const other = new Database(path, { readonly: true });
    expect(other.prepare("SELECT status FROM usage WHERE request_id = ?").get(id)).toEqual({ status: "in_flight" });
    other.close();
    await ok.body?.cancel();

    const refused = await app.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat) });
    expect(refused.status).toBe(500);
    expect(backend.released).toBe(true);
  });
});
