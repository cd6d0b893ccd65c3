import { describe, expect, it } from "vitest";
import type { AttestationReport } from "../attest/report/format.js";
import type { InferenceBackend } from "../inference/backend.js";
import { requestAad } from "../seal/e2e/aad.js";
import { E2EHeader, fromBase64Url, toBase64Url } from "../seal/e2e/headers.js";
import { sealRequest } from "../seal/e2e/request.js";
import { deriveResponseKeys, openBody } from "../seal/e2e/response.js";
import { e2eKeyId } from "../seal/e2e/suite.js";
import { generateApiKey } from "../store/api-keys.js";
import { openSqliteStore } from "../store/sqlite.js";
import { fromHex, utf8 } from "../util/bytes.js";
import { createGateway } from "./app.js";
import { echoTee, wordsBackend } from "./test-fakes.js";

const backend = (): InferenceBackend => wordsBackend(["sealed hello"], { promptTokens: 1, completionTokens: 2 });

const tee = echoTee;

describe("E2E on a gateway created without deps.e2e", () => {
  it("opens a request sealed to the key its report advertises, and answers sealed", async () => {
    const app = createGateway({ backend: backend(), tee, store: openSqliteStore({ path: ":memory:" }), authRequired: false });
    const report = (await (await app.request(`/v1/attestation/report?nonce=${"11".repeat(32)}`)).json()) as AttestationReport;
    const pub = fromHex(report.e2e_public_key);
    const keyId = e2eKeyId(pub);
    const body = utf8.encode(JSON.stringify({ model: "fake", messages: [{ role: "user", content: "hi" }] }));
    const time = Math.floor(Date.now() / 1000);
    const s = await sealRequest(pub, body, requestAad({ method: "POST", route: "/v1/chat/completions", model: "fake", stream: false, keyId, time }));
    const res = await app.request("/v1/chat/completions", {
      method: "POST",
      headers: { [E2EHeader.version]: "v1", [E2EHeader.enc]: toBase64Url(s.enc), [E2EHeader.keyId]: keyId, [E2EHeader.model]: "fake", [E2EHeader.stream]: "false", [E2EHeader.time]: String(time) },
      body: s.ciphertext.slice(),
    });
    expect(res.status).toBe(200);
    const keys = deriveResponseKeys(s.responseSecret, s.enc, fromBase64Url(res.headers.get(E2EHeader.responseNonce) ?? "")!);
    const opened = openBody(keys, new Uint8Array(await res.arrayBuffer()));
    const json = JSON.parse(utf8.decode(opened.body)) as { choices: { message: { content: string } }[] };
    expect(json.choices[0]?.message.content).toBe("sealed hello");
    expect(opened.trailers).toHaveProperty("signature");
  });

  it("still serves plain requests (E2E is not required unless asked)", async () => {
    const app = createGateway({ backend: backend(), tee, store: openSqliteStore({ path: ":memory:" }), authRequired: false });
    const res = await app.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "fake", messages: [{ role: "user", content: "hi" }] }) });
    expect(res.status).toBe(200);
  });
});

describe("E2E on every POST under /v1", () => {
  async function sealedTo(app: ReturnType<typeof createGateway>, route: string, credential?: string) {
    const report = (await (await app.request(`/v1/attestation/report?nonce=${"11".repeat(32)}`)).json()) as AttestationReport;
    const pub = fromHex(report.e2e_public_key);
    const keyId = e2eKeyId(pub);
    const body = utf8.encode(JSON.stringify({ model: "fake", input: "hi" }));
    const time = Math.floor(Date.now() / 1000);
    const s = await sealRequest(pub, body, requestAad({ method: "POST", route, model: "fake", stream: false, keyId, time }), credential ? utf8.encode(credential) : undefined);
    const headers: Record<string, string> = { [E2EHeader.version]: "v1", [E2EHeader.enc]: toBase64Url(s.enc), [E2EHeader.keyId]: keyId, [E2EHeader.model]: "fake", [E2EHeader.stream]: "false", [E2EHeader.time]: String(time) };
    if (s.credential) headers[E2EHeader.auth] = toBase64Url(s.credential);
    const res = await app.request(route, { method: "POST", headers, body: s.ciphertext.slice() });
    const nonce = fromBase64Url(res.headers.get(E2EHeader.responseNonce) ?? "");
    const opened = nonce ? openBody(deriveResponseKeys(s.responseSecret, s.enc, nonce), new Uint8Array(await res.arrayBuffer())) : null;
    return { status: res.status, body: opened ? utf8.decode(opened.body) : null };
  }

  it("opens a sealed request to a route added after the gateway was made (e.g. /v1/responses), and seals its answer", async () => {
    const app = createGateway({ backend: backend(), tee, store: openSqliteStore({ path: ":memory:" }), authRequired: false });
    app.post("/v1/later", async (c) => c.json({ got: ((await c.req.json()) as { input: string }).input }));
    expect(await sealedTo(app, "/v1/later")).toEqual({ status: 200, body: JSON.stringify({ got: "hi" }) });
    // A route nobody serves: the 404 comes back sealed, too.
    expect((await sealedTo(app, "/v1/nowhere")).status).toBe(404);
  });

  it("authenticates a sealed request from its sealed credential only", async () => {
    const store = openSqliteStore({ path: ":memory:" });
    const k = generateApiKey();
    await store.createApiKey({ id: k.id, hash: k.hash, name: "t", created: Date.now() });
    const app = createGateway({ backend: backend(), tee, store, authRequired: true });
    const ok = await sealedTo(app, "/v1/chat/completions", `Bearer ${k.key}`);
    expect(ok.status).toBe(400); // authenticated; the body is not a chat request (sealed invalid_params)
    expect(ok.body).toContain("invalid");
    const none = await sealedTo(app, "/v1/chat/completions");
    expect(none.status).toBe(401);
    expect(none.body).toContain("invalid_api_key");
  });
});
