import { describe, expect, it } from "vitest";
import type { AttestationReport } from "../attest/report/format.js";
import type { InferenceBackend } from "../inference/backend.js";
import { requestAad } from "../seal/e2e/aad.js";
import { E2EHeader, fromBase64Url, toBase64Url } from "../seal/e2e/headers.js";
import { sealRequest } from "../seal/e2e/request.js";
import { deriveResponseKeys, openBody } from "../seal/e2e/response.js";
import { e2eKeyId } from "../seal/e2e/suite.js";
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
