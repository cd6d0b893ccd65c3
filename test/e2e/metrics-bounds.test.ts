import { describe, expect, it } from "vitest";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { createGateway } from "../../src/gateway/app.js";
import { generateApiKey } from "../../src/store/api-keys.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { fakeBackend } from "./client-fixtures.js";

describe("/metrics", () => {
  it("keeps /metrics bounded: attacker-chosen model names do not become new series", async () => {
    const store = openSqliteStore({ path: ":memory:" });
    const k = generateApiKey();
    await store.createApiKey({ id: k.id, hash: k.hash, name: "t", created: Date.now() });
    const app = createGateway({ backend: fakeBackend(), tee: createSimulatorProvider(), store });
    const post = (model: string) =>
      app.request("/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${k.key}`, "content-type": "application/json" }, body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }) });
    await (await post("fake")).arrayBuffer();
    // Unknown models are refused before metering (a 404, no row, no tokens counted).
    for (let i = 0; i < 50; i++) {
      const r = await post(`attacker-model-${i}-${"x".repeat(1000)}`);
      expect(r.status).toBe(404);
      await r.arrayBuffer();
    }
    const m = await (await app.request("/metrics", { headers: { authorization: `Bearer ${k.key}` } })).text();
    const series = m.split("\n").filter((l) => l.startsWith("cloister_tokens_total{"));
    expect(series.length).toBeLessThan(10);
    expect(m).toContain('cloister_tokens_total{model="fake",type="completion"}');
    expect(m).not.toContain("attacker-model");
    await store.close();
  });

  it("requires a valid API key when auth is on, and stays open when auth is off", async () => {
    const store = openSqliteStore({ path: ":memory:" });
    const on = createGateway({ backend: fakeBackend(), tee: createSimulatorProvider(), store });
    expect((await on.request("/metrics")).status).toBe(401);
    expect((await on.request("/metrics", { headers: { authorization: "Bearer sk-cloister-wrong" } })).status).toBe(401);
    const off = createGateway({ backend: fakeBackend(), tee: createSimulatorProvider(), store, authRequired: false });
    expect((await off.request("/metrics")).status).toBe(200);
    await store.close();
  });
});
