import { describe, expect, it } from "vitest";
import { request } from "node:http";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { createGateway } from "../../src/gateway/app.js";
import { startServer } from "../../src/gateway/server.js";
import { generateApiKey } from "../../src/store/api-keys.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { fakeBackend } from "./client-fixtures.js";

describe("slow request bodies", () => {
  it("frees the concurrency slot of a request whose body never finishes once the request time limit passes", async () => {
    const store = openSqliteStore({ path: ":memory:" });
    const k = generateApiKey();
    await store.createApiKey({ id: k.id, hash: k.hash, name: "t", created: Date.now() });
    const app = createGateway({ backend: fakeBackend(), tee: createSimulatorProvider(), store, limits: { maxConcurrent: 1, requestTimeoutMs: 300 } });
    const server = await startServer(app, { host: "127.0.0.1", port: 0 });
    const u = new URL(server.url);
    // Chunked upload that sends one byte and then stalls (slowloris on the body).
    const slow = request({ host: u.hostname, port: u.port, method: "POST", path: "/v1/chat/completions", headers: { authorization: `Bearer ${k.key}`, "content-type": "application/json", "transfer-encoding": "chunked" } });
    slow.on("error", () => {});
    slow.write("{");
    await new Promise((r) => setTimeout(r, 1000));
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${k.key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "fake", messages: [{ role: "user", content: "hi" }] }) });
    expect(res.status).toBe(200);
    slow.destroy();
    await server.close({ drainMs: 10 });
    await store.close();
  });
});
