import { describe, expect, it } from "vitest";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { createGateway } from "../../src/gateway/app.js";
import type { InferenceBackend } from "../../src/inference/backend.js";
import { generateApiKey } from "../../src/store/api-keys.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { fakeBackend } from "./client-fixtures.js";

/** An upstream like vLLM: the completion id is "chatcmpl-" + the body's optional request_id. */
function vllmLike(): InferenceBackend {
  return {
    ...fakeBackend(),
    async passthrough(_path, body) {
      const req = JSON.parse(new TextDecoder().decode(body)) as { request_id?: string };
      const id = `chatcmpl-${req.request_id ?? crypto.randomUUID()}`;
      return new Response(JSON.stringify({ id, object: "chat.completion", created: 1, model: "fake", choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }), { headers: { "content-type": "application/json" } });
    },
  };
}

/** A gateway over a vLLM-like upstream with two API keys, A (the attacker) and B. */
async function twoKeys() {
  const store = openSqliteStore({ path: ":memory:" });
  const a = generateApiKey();
  const b = generateApiKey();
  await store.createApiKey({ id: a.id, hash: a.hash, name: "a", created: Date.now() });
  await store.createApiKey({ id: b.id, hash: b.hash, name: "b", created: Date.now() });
  return { store, a, b, app: createGateway({ backend: vllmLike(), tee: createSimulatorProvider(), store }) };
}

describe("signature rows belong to the API key that made them", () => {
  it("one key cannot replace another key's signature row", async () => {
    const { store, a, b, app } = await twoKeys();
    const post = (key: string, extra: Record<string, unknown>) =>
      app.request("/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "fake", messages: [{ role: "user", content: "x" }], ...extra }) });
    const victim = await post(b.key, {});
    const victimId = victim.headers.get("x-cloister-request-id") ?? "";
    await victim.arrayBuffer();
    expect((await app.request(`/v1/signature/${victimId}`, { headers: { authorization: `Bearer ${b.key}` } })).status).toBe(200);
    // The attacker (key A) saw the victim's plaintext X-Cloister-Request-Id and names it as its own upstream id.
    await (await post(a.key, { request_id: victimId.slice("chatcmpl-".length) })).arrayBuffer();
    expect((await app.request(`/v1/signature/${victimId}`, { headers: { authorization: `Bearer ${b.key}` } })).status).toBe(200);
    expect((await app.request(`/v1/signature/${victimId}`, { headers: { authorization: `Bearer ${a.key}` } })).status).toBe(404);
    await store.close();
  });

  it("one key cannot take the upstream id another key's signature is found by", async () => {
    const { store, a, b, app } = await twoKeys();
    const post = (key: string) =>
      app.request("/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "fake", messages: [{ role: "user", content: "x" }], request_id: "shared" }) });
    const get = (id: string, key: string) => app.request(`/v1/signature/${id}`, { headers: { authorization: `Bearer ${key}` } });
    const victim = await post(b.key);
    const victimSig = JSON.parse(victim.headers.get("x-cloister-signature") ?? "null") as { signature: string };
    expect(((await victim.json()) as { id: string }).id).toBe("chatcmpl-shared");
    expect(((await (await get("chatcmpl-shared", b.key)).json()) as { signature: string }).signature).toBe(victimSig.signature);
    // Key A's request makes the upstream answer with the same id.
    const attack = await post(a.key);
    const attackId = attack.headers.get("x-cloister-request-id") ?? "";
    expect(((await attack.json()) as { id: string }).id).toBe("chatcmpl-shared");
    expect((await get("chatcmpl-shared", a.key)).status).toBe(404);
    expect(((await (await get("chatcmpl-shared", b.key)).json()) as { signature: string }).signature).toBe(victimSig.signature);
    // A's own signature is still found by the id we gave its request.
    expect((await get(attackId, a.key)).status).toBe(200);
    await store.close();
  });
});
