import { describe, expect, it } from "vitest";
import type { InferenceBackend } from "../../inference/backend.js";
import { generateApiKey } from "../../store/api-keys.js";
import { openSqliteStore } from "../../store/sqlite.js";
import { createGateway } from "../app.js";
import { echoTee, wordsBackend } from "../test-fakes.js";

const backend = (): InferenceBackend => wordsBackend(["Hi"], { promptTokens: 1, completionTokens: 1 });

const tee = echoTee;

async function setup(authRequired: boolean) {
  const store = openSqliteStore({ path: ":memory:" });
  const keys = [generateApiKey(), generateApiKey()];
  for (const k of keys) await store.createApiKey({ id: k.id, hash: k.hash, name: null, created: Date.now() });
  const app = createGateway({ backend: backend(), tee, store, authRequired });
  const as = (i: number): Record<string, string> => ({ authorization: `Bearer ${keys[i]!.key}` });
  const complete = async (headers: Record<string, string>, stream = false): Promise<string> => {
    const res = await app.request("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: "fake", stream, messages: [{ role: "user", content: "x" }] }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    return res.headers.get("x-cloister-request-id") ?? "";
  };
  const signature = (id: string, headers: Record<string, string>) => app.request(`/v1/signature/${id}`, { headers });
  return { as, complete, signature };
}

describe("GET /v1/signature/<id> ownership", () => {
  it("answers the key that made the completion, and 404 (as for an unknown id) to any other key", async () => {
    const { as, complete, signature } = await setup(true);
    for (const stream of [false, true]) {
      const id = await complete(as(0), stream);
      const own = await signature(id, as(0));
      expect(own.status).toBe(200);
      expect(((await own.json()) as { text: string }).text).toMatch(/^[0-9a-f]{64}:[0-9a-f]{64}$/);

      const other = await signature(id, as(1));
      const unknown = await signature("chatcmpl-doesnotexist", as(1));
      expect(other.status).toBe(404);
      expect(unknown.status).toBe(404);
      // Same body shape as an unknown id: nothing tells the caller the id exists.
      expect(await other.json()).toEqual(await unknown.json());
      expect((await signature(id, {})).status).toBe(401);
    }
  });

  it("stays open with --no-auth (every caller is the same anonymous user)", async () => {
    const { complete, signature } = await setup(false);
    const id = await complete({});
    expect((await signature(id, {})).status).toBe(200);
  });
});
