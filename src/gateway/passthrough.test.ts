import { describe, expect, it } from "vitest";
import type { InferenceBackend } from "../inference/backend.js";
import { openSqliteStore } from "../store/sqlite.js";
import { createGateway } from "./app.js";
import { WHOLE_BODY_LIMIT } from "./passthrough.js";
import { echoTee, passthroughOnly } from "./test-fakes.js";

/** An upstream that answers a non-streamed request with a JSON body that never ends (chunked, no Content-Length). */
function endlessJsonBackend(): InferenceBackend & { sent: number; released: boolean } {
  const state = { sent: 0, released: false };
  const chunk = new Uint8Array(256 * 1024).fill(0x20);
  // state itself is returned: the stream's hooks update what the test reads.
  return Object.assign(
    state,
    passthroughOnly(async (): Promise<Response> =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(ctrl) {
            state.sent += chunk.byteLength;
            ctrl.enqueue(chunk);
          },
          cancel() {
            state.released = true;
          },
        }),
        { status: 200, headers: { "content-type": "application/json" } },
      ),
    ),
  );
}

describe("pass-through of a whole answer", () => {
  it("refuses an upstream body past the limit and releases it, instead of buffering without end", async () => {
    const backend = endlessJsonBackend();
    const app = createGateway({ backend, tee: echoTee, store: openSqliteStore({ path: ":memory:" }), authRequired: false });
    const res = await app.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }) });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(backend.released).toBe(true);
    expect(backend.sent).toBeLessThanOrEqual(WHOLE_BODY_LIMIT + 2 * 256 * 1024);
  });
});
