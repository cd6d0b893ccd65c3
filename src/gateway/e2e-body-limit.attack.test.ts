/**
 * Body limits on the request path through the whole gateway (createGateway), attacked:
 * since 0cc0b62 an opened request's plaintext is trusted by bodyLimit as already in memory
 * (knownBodyBytes), and /v1/tokens/issue reads its body through bodyBytes. Each test
 * counts how many bytes the node pulled off a hostile body before it answered.
 */
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import type { AttestationReport } from "../attest/report/format.js";
import type { GenerationEvent, InferenceBackend } from "../inference/backend.js";
import { requestAad } from "../seal/e2e/aad.js";
import { E2EHeader, fromBase64Url, toBase64Url } from "../seal/e2e/headers.js";
import { sealRequest } from "../seal/e2e/request.js";
import { deriveResponseKeys, openBody } from "../seal/e2e/response.js";
import { e2eKeyId } from "../seal/e2e/suite.js";
import { Hub } from "../agents/hub/hub.js";
import { openHubStore } from "../agents/hub/store.js";
import { generateApiKey } from "../store/api-keys.js";
import { openSqliteStore } from "../store/sqlite.js";
import { generateIssuerKey } from "../transparency/tokens/issuer.js";
import { TokenRedeemer } from "../transparency/tokens/redeemer.js";
import type { TokenSale } from "../transparency/tokens/escrow-sale.js";
import { fromHex, utf8 } from "../util/bytes.js";
import { createGateway, type GatewayDeps } from "./app.js";
import { startServer } from "./server.js";
import { echoTee } from "./test-fakes.js";

const MAX = 256 * 1024;
const HUGE = 24 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** A body of `total` bytes made only as it is read (no length declared: chunked on the wire). */
function hostileBody(total: number) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(ctl) {
        if (state.pulled >= total) return ctl.close();
        const n = Math.min(CHUNK, total - state.pulled);
        state.pulled += n;
        ctl.enqueue(new Uint8Array(n).fill(0x61));
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

function backend(maxPromptBytes?: number): InferenceBackend {
  async function* gen(): AsyncGenerator<GenerationEvent> {
    yield { type: "delta", text: "hello" };
    yield { type: "done", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 } };
  }
  return { kind: "llama", listModels: async () => [{ id: "fake", ownedBy: "t", created: 1 }], chat: () => gen(), complete: () => gen(), close: async () => {}, ...(maxPromptBytes ? { maxPromptBytes } : {}) };
}

async function setup(over: Partial<GatewayDeps> = {}, opts: { maxPromptBytes?: number; sale?: boolean } = {}) {
  const store = openSqliteStore({ path: ":memory:" });
  const k = generateApiKey();
  await store.createApiKey({ id: k.id, hash: k.hash, name: "t", created: Date.now() });
  const tokenKey = await generateIssuerKey();
  const sale: TokenSale = { price: { perToken: 1n } as unknown as TokenSale["price"], sell: () => Promise.reject(new Error("not in this test")) };
  const app = createGateway({
    backend: backend(opts.maxPromptBytes),
    tee: echoTee,
    store,
    authRequired: false,
    limits: { maxBodyBytes: MAX },
    tokens: { key: tokenKey, redeemer: new TokenRedeemer(tokenKey), ...(opts.sale ? { sale } : {}) },
    ...over,
  });
  const report = (await (await app.request(`/v1/attestation/report?nonce=${"11".repeat(32)}`)).json()) as AttestationReport;
  return { app, apiKey: k.key, pub: fromHex(report.e2e_public_key) };
}

type App = Awaited<ReturnType<typeof setup>>["app"];

function envelopeHeaders(pub: Uint8Array, enc: Uint8Array, model: string) {
  const time = Math.floor(Date.now() / 1000);
  return { time, headers: { [E2EHeader.version]: "v1", [E2EHeader.enc]: toBase64Url(enc), [E2EHeader.keyId]: e2eKeyId(pub), [E2EHeader.model]: model, [E2EHeader.stream]: "false", [E2EHeader.time]: String(time) } };
}

async function sealedPost(app: App, pub: Uint8Array, route: string, plaintext: Uint8Array, extra: Record<string, string> = {}, model = "fake") {
  const time = Math.floor(Date.now() / 1000);
  const s = await sealRequest(pub, plaintext, requestAad({ method: "POST", route, model, stream: false, keyId: e2eKeyId(pub), time }));
  const { headers } = envelopeHeaders(pub, s.enc, model);
  const res = await app.request(route, { method: "POST", headers: { ...headers, [E2EHeader.time]: String(time), ...extra }, body: s.ciphertext.slice() });
  const nonce = res.headers.get(E2EHeader.responseNonce);
  const opened = nonce === null ? null : openBody(deriveResponseKeys(s.responseSecret, s.enc, fromBase64Url(nonce)!), new Uint8Array(await res.arrayBuffer()));
  return { status: res.status, body: opened ? (JSON.parse(utf8.decode(opened.body)) as { error?: { code?: string } }) : ((await res.json()) as { error?: { code?: string } }) };
}

const post = (app: App, route: string, body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}) => app.request(route, { method: "POST", headers, body, duplex: "half" } as RequestInit);

describe("body limits on the request path, attacked", () => {
  it("a sealed plaintext over its route's body limit (within the envelope's) is a sealed 413; one within it is answered", async () => {
    // Completions are bounded by the model's context: 6 × 1000 + 64 KiB of slack, below MAX.
    const { app, pub } = await setup({}, { maxPromptBytes: 1000 });
    const big = utf8.encode(JSON.stringify({ model: "fake", messages: [{ role: "user", content: "x".repeat(100_000) }] }));
    expect(big.length).toBeLessThan(MAX);
    const r = await sealedPost(app, pub, "/v1/chat/completions", big);
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 413, code: "body_too_large" });
    const ok = await sealedPost(app, pub, "/v1/chat/completions", utf8.encode(JSON.stringify({ model: "fake", messages: [{ role: "user", content: "hi" }] })));
    expect(ok.status).toBe(200);
  });

  it("a sealed request's own content-length is not trusted: a lying outer one changes nothing, the inner one is the plaintext's", async () => {
    const { app, pub } = await setup();
    const over = utf8.encode(JSON.stringify({ model: "fake", messages: [{ role: "user", content: "x".repeat(MAX) }] }));
    const r = await sealedPost(app, pub, "/v1/chat/completions", over, { "content-length": "10" });
    expect(r.status).toBe(413);
  });

  it("a sealed envelope with no declared length (chunked) and a huge body: 413 after reading about the limit, not the whole body", async () => {
    const { app, pub } = await setup();
    const { headers } = envelopeHeaders(pub, crypto.getRandomValues(new Uint8Array(32)), "fake");
    const { stream, state } = hostileBody(HUGE);
    const res = await post(app, "/v1/chat/completions", stream, headers);
    expect(res.status).toBe(413);
    expect(state.pulled).toBeLessThanOrEqual(MAX + 16 + 2 * CHUNK);
  });

  it("a plaintext request with no declared length and a huge body: 413 after reading about the limit (bodyLimit's streamed path, no knownBodyBytes)", async () => {
    const { app } = await setup();
    const { stream, state } = hostileBody(HUGE);
    const res = await post(app, "/v1/chat/completions", stream, { "content-type": "application/json" });
    expect(res.status).toBe(413);
    expect(state.pulled).toBeLessThanOrEqual(MAX + 2 * CHUNK);
  });

  it("a plaintext request whose content-length lies low: refused once the bytes past the limit are seen, whatever it declared", async () => {
    const { app } = await setup();
    const res = await app.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json", "content-length": "10" }, body: "x".repeat(MAX + 1) });
    expect(res.status).toBe(413);
  });

  it("/v1/tokens/issue (an API key, a plaintext body): a huge body is refused after reading about its limit, not buffered whole", async () => {
    const { app, apiKey } = await setup();
    const { stream, state } = hostileBody(HUGE);
    const res = await post(app, "/v1/tokens/issue", stream, { authorization: `Bearer ${apiKey}`, "content-type": "application/private-token-request" });
    expect(res.status).toBe(413);
    expect(state.pulled).toBeLessThanOrEqual(2 * CHUNK);
    const declared = await app.request("/v1/tokens/issue", { method: "POST", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/private-token-request" }, body: new Uint8Array(4096) });
    expect(declared.status).toBe(413);
  });

  it("/v1/tokens/buy (no API key: the permit pays): a huge body is refused after reading about its limit, not buffered whole", async () => {
    const { app } = await setup({}, { sale: true });
    const { stream, state } = hostileBody(HUGE);
    const res = await post(app, "/v1/tokens/buy", stream, { "content-type": "application/json" });
    expect(res.status).toBe(413);
    expect(state.pulled).toBeLessThanOrEqual(64 * 1024 + 2 * CHUNK);
  });

  it("a sealed request to /v1/tokens/issue: opened (the sealed credential authenticates), then refused sealed, its plaintext bounded by the envelope", async () => {
    const { app, pub, apiKey } = await setup();
    const time = Math.floor(Date.now() / 1000);
    const route = "/v1/tokens/issue";
    const s = await sealRequest(pub, new Uint8Array(300), requestAad({ method: "POST", route, model: "", stream: false, keyId: e2eKeyId(pub), time }), utf8.encode(`Bearer ${apiKey}`));
    const { headers } = envelopeHeaders(pub, s.enc, "");
    const res = await app.request(route, { method: "POST", headers: { ...headers, [E2EHeader.time]: String(time), [E2EHeader.auth]: toBase64Url(s.credential!) }, body: s.ciphertext.slice() });
    const nonce = res.headers.get(E2EHeader.responseNonce);
    expect(nonce).not.toBeNull();
    const opened = openBody(deriveResponseKeys(s.responseSecret, s.enc, fromBase64Url(nonce!)!), new Uint8Array(await res.arrayBuffer()));
    // The opened request is application/json (the E2E layer says so), so the issuer refuses it: a sealed 415, not a token.
    expect({ status: res.status, code: (JSON.parse(utf8.decode(opened.body)) as { error: { code: string } }).error.code }).toEqual({ status: 415, code: "unsupported_media_type" });
  });

  it("/v1/agents publish (an API key): a huge body is refused after reading about the node's limit, not buffered whole", async () => {
    const { app, apiKey } = await setup({ agents: { hub: new Hub(openHubStore()) } });
    const { stream, state } = hostileBody(HUGE);
    const res = await post(app, "/v1/agents", stream, { authorization: `Bearer ${apiKey}`, "content-type": "application/json" });
    expect(res.status).toBe(413);
    expect(state.pulled).toBeLessThanOrEqual(MAX + 2 * CHUNK);
  });

  it("/ohttp (no key at all): a huge encapsulated request is refused after reading about the node's limit, not buffered whole", async () => {
    const { app } = await setup();
    const { stream, state } = hostileBody(HUGE);
    const res = await post(app, "/ohttp", stream, { "content-type": "message/ohttp-req" });
    expect(res.status).toBe(413);
    expect(state.pulled).toBeLessThanOrEqual(MAX + 1024 + 2 * CHUNK);
  });
});

/** Writes `head`, `body`, then `later` after 400 ms; resolves with all the server sent back until it closed (or `waitMs`). */
function rawExchange(port: number, head: string, body: Uint8Array, later?: Uint8Array, waitMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, "127.0.0.1");
    let got = "";
    const done = (): void => {
      clearTimeout(t);
      sock.destroy();
      resolve(got);
    };
    const t = setTimeout(done, waitMs);
    sock.on("data", (d: Buffer) => (got += d.toString("latin1")));
    sock.on("close", done);
    sock.on("error", done);
    sock.write(head);
    sock.write(body);
    if (later) setTimeout(() => sock.writable && sock.write(later), 400);
});
}

describe("a lying content-length through the real server (node:http, @hono/node-server)", () => {
  it("declared lower than sent: the app gets exactly the declared bytes (a sealed body cut short does not open), the rest is no request; declared higher: the receive times out; both with transfer-encoding: refused", async () => {
    const { app, pub } = await setup();
    const srv = await startServer(app, { host: "127.0.0.1", port: 0, bodyTimeoutMs: 1500 });
    try {
      const time = Math.floor(Date.now() / 1000);
      const route = "/v1/chat/completions";
      const plaintext = utf8.encode(JSON.stringify({ model: "fake", messages: [{ role: "user", content: "x".repeat(5000) }] }));
      const s = await sealRequest(pub, plaintext, requestAad({ method: "POST", route, model: "fake", stream: false, keyId: e2eKeyId(pub), time }));
      const { headers } = envelopeHeaders(pub, s.enc, "fake");
      const lines = Object.entries({ ...headers, [E2EHeader.time]: String(time) }).map(([k, v]) => `${k}: ${v}\r\n`).join("");
      const head = (extra: string) => `POST ${route} HTTP/1.1\r\nhost: x\r\n${lines}${extra}\r\n`;
      // The app answers the 100 declared bytes (they do not open); what follows is parsed as the next request, and refused.
      const low = await rawExchange(srv.port, head("content-length: 100\r\n"), s.ciphertext.subarray(0, 100), s.ciphertext.subarray(100));
      expect(low).toMatch(/^HTTP\/1\.1 400 /);
      expect(low).toContain("e2e_decrypt_failed");
      expect(low).not.toMatch(/HTTP\/1\.1 200 /);
      const high = await rawExchange(srv.port, head(`content-length: ${s.ciphertext.length + 1000}\r\n`), s.ciphertext);
      expect(high).not.toMatch(/HTTP\/1\.1 200 /);
      const both = await rawExchange(srv.port, head(`content-length: ${s.ciphertext.length}\r\ntransfer-encoding: chunked\r\n`), s.ciphertext);
      expect(both).toMatch(/^HTTP\/1\.1 400 /);
      // The same request, honestly framed, is answered.
      const ok = await rawExchange(srv.port, head(`content-length: ${s.ciphertext.length}\r\nconnection: close\r\n`), s.ciphertext);
      expect(ok).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      await srv.close({ drainMs: 100 });
    }
  });

  it("a chunked sealed envelope far over the limit: the server answers 413 while the body is still coming (it was read no further than the limit)", async () => {
    const { app, pub } = await setup();
    const srv = await startServer(app, { host: "127.0.0.1", port: 0 });
    try {
      const { headers } = envelopeHeaders(pub, crypto.getRandomValues(new Uint8Array(32)), "fake");
      const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
      const sock = connect(srv.port, "127.0.0.1");
      let got = "";
      let answered = (): void => {};
      const answer = new Promise<void>((r) => (answered = r));
      sock.on("data", (d: Buffer) => ((got += d.toString("latin1")), answered()));
      sock.on("error", () => answered());
      sock.on("close", () => answered());
      sock.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n${lines}transfer-encoding: chunked\r\n\r\n`);
      const chunk = Buffer.concat([Buffer.from(`${CHUNK.toString(16)}\r\n`), Buffer.alloc(CHUNK, 0x61), Buffer.from("\r\n")]);
      let sent = 0;
      while (!got && sent < HUGE && !sock.destroyed) {
        // A server that stopped reading never drains: the answer ends the wait too.
        if (!sock.write(chunk)) await Promise.race([new Promise((r) => sock.once("drain", r)), answer]);
        sent += CHUNK;
      }
      await Promise.race([answer, new Promise((r) => setTimeout(r, 5000))]);
      sock.destroy();
      expect(got).toMatch(/^HTTP\/1\.1 413 /);
      expect(sent).toBeLessThan(HUGE / 2);
    } finally {
      await srv.close({ drainMs: 100 });
    }
  });

});
