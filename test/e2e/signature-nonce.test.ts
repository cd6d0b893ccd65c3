import { describe, expect, it } from "vitest";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { createGateway } from "../../src/gateway/app.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { fakeBackend } from "./client-fixtures.js";

describe("X-Cloister-Client-Nonce in the signed text", () => {
  const body = JSON.stringify({ model: "fake", messages: [{ role: "user", content: "hi" }] });
  const post = async (headers: Record<string, string>) => {
    const store = openSqliteStore({ path: ":memory:" });
    const app = createGateway({ backend: fakeBackend(), tee: createSimulatorProvider(), store, authRequired: false });
    const res = await app.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    await res.arrayBuffer();
    await store.close();
    return res;
  };

  it("appends the nonce as a third field when the request carries one", async () => {
    const nonce = "ab".repeat(32);
    const res = await post({ "x-cloister-client-nonce": nonce });
    const signed = JSON.parse(res.headers.get("x-cloister-signature") ?? "{}") as { text: string };
    expect(signed.text.split(":")).toHaveLength(3);
    expect(signed.text.endsWith(`:${nonce}`)).toBe(true);
  });

  it("keeps the two-field text when no nonce is sent", async () => {
    const res = await post({});
    const signed = JSON.parse(res.headers.get("x-cloister-signature") ?? "{}") as { text: string };
    expect(signed.text).toMatch(/^[0-9a-f]{64}:[0-9a-f]{64}$/);
  });

  it("refuses a malformed nonce with 400", async () => {
    expect((await post({ "x-cloister-client-nonce": "short" })).status).toBe(400);
    expect((await post({ "x-cloister-client-nonce": "AB".repeat(32) })).status).toBe(400);
  });
});
