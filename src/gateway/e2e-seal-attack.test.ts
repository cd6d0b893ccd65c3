/**
 * The E2E layer's sealing through the whole gateway (createGateway), attacked: a buffered
 * answer is sealed at once (sealBody), a streamed one by sealedStream. Fail closed: nothing
 * plaintext leaks, a broken stream never ends with a final frame, a cancel reaches the
 * backend and closes the usage row as cancelled, and nothing reads the backend ahead.
 */
import type { MiddlewareHandler } from "hono";
import { describe, expect, it } from "vitest";
import type { AttestationReport } from "../attest/report/format.js";
import { SealError } from "../errors.js";
import type { GenerationEvent, InferenceBackend } from "../inference/backend.js";
import { requestAad } from "../seal/e2e/aad.js";
import { E2EHeader, fromBase64Url, toBase64Url } from "../seal/e2e/headers.js";
import { sealRequest } from "../seal/e2e/request.js";
import { deriveResponseKeys, openBody } from "../seal/e2e/response.js";
import { e2eKeyId } from "../seal/e2e/suite.js";
import { openSqliteStore } from "../store/sqlite.js";
import { fromHex, utf8 } from "../util/bytes.js";
import { createGateway, type GatewayDeps } from "./app.js";
import type { GatewayEnv } from "./context.js";
import { sealedExchange } from "./sealed-exchange.js";
import { bufferedBody } from "./stream-tap.js";
import { echoTee } from "./test-fakes.js";
import { sealCodeOf } from "../seal/e2e/test-codes.js";

/** "fake" answers "sealed hello"; "count" streams deltas forever (counting them) until its signal aborts. */
function backend() {
  const state = { yielded: 0, signal: null as AbortSignal | null };
  async function* gen(model: string, signal?: AbortSignal): AsyncGenerator<GenerationEvent> {
    if (model === "count") {
      for (let i = 1; !signal?.aborted; i++) {
        state.yielded = i;
        yield { type: "delta", text: ` w${i}`, usage: { promptTokens: 1, completionTokens: i } };
      }
      return;
    }
    yield { type: "delta", text: "sealed hello" };
    yield { type: "done", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 2 } };
  }
  const b: InferenceBackend = {
    kind: "llama",
    listModels: async () => ["fake", "count"].map((id) => ({ id, ownedBy: "t", created: 1 })),
    chat: (r) => ((state.signal = r.signal ?? null), gen(r.model, r.signal)),
    complete: (r) => ((state.signal = r.signal ?? null), gen(r.model, r.signal)),
    close: async () => {},
  };
  return { b, state };
}

function setup(over: Partial<GatewayDeps> = {}) {
  const { b, state } = backend();
  const store = openSqliteStore({ path: ":memory:" });
  const app = createGateway({ backend: b, tee: echoTee, store, authRequired: false, ...over });
  return { app, store, state };
}

type App = ReturnType<typeof createGateway>;

async function sealedPost(app: App, route: string, payload: unknown, stream: boolean) {
  const report = (await (await app.request(`/v1/attestation/report?nonce=${"11".repeat(32)}`)).json()) as AttestationReport;
  const pub = fromHex(report.e2e_public_key);
  const keyId = e2eKeyId(pub);
  const model = (payload as { model?: string }).model ?? "";
  const time = Math.floor(Date.now() / 1000);
  const s = await sealRequest(pub, utf8.encode(JSON.stringify(payload)), requestAad({ method: "POST", route, model, stream, keyId, time }));
  const res = await app.request(route, {
    method: "POST",
    headers: { [E2EHeader.version]: "v1", [E2EHeader.enc]: toBase64Url(s.enc), [E2EHeader.keyId]: keyId, [E2EHeader.model]: model, [E2EHeader.stream]: String(stream), [E2EHeader.time]: String(time) },
    body: s.ciphertext.slice(),
  });
  const nonce = res.headers.get(E2EHeader.responseNonce);
  return { res, keys: nonce === null ? null : deriveResponseKeys(s.responseSecret, s.enc, fromBase64Url(nonce)!) };
}

const codeOf = sealCodeOf;

const chat = (model: string, stream = false) => ({ model, stream, messages: [{ role: "user", content: "hush" }] });
const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

describe("E2E sealing through the gateway, attacked", () => {
  it("buffered answer: 200, sealed content type, inner type kept, no signature or receipt index in the clear, signature sealed", async () => {
    const { app } = setup();
    const { res, keys } = await sealedPost(app, "/v1/chat/completions", chat("fake"), false);
    const direct = bufferedBody(res);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/cloister-e2e");
    expect(res.headers.get("x-cloister-e2e-content-type")).toBe("application/json");
    expect(res.headers.get("x-cloister-e2e")).toBe("v1");
    expect(res.headers.get("x-cloister-signature")).toBeNull();
    expect(res.headers.get("x-cloister-receipt-index")).toBeNull();
    expect(res.headers.get("content-length")).not.toBe(String(utf8.encode("sealed hello").length));
    expect(res.headers.get("x-cloister-request-id")).toMatch(/^chatcmpl-/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(utf8.decode(bytes)).not.toContain("sealed hello");
    const opened = openBody(keys!, bytes);
    expect(utf8.decode(opened.body)).toContain("sealed hello");
    expect(opened.trailers).toHaveProperty("signature.text");
    expect(opened.trailers).toHaveProperty("receipt_index");
    // Still a buffered Response when it reaches the server (its one-write fast path), not re-streamed by the request scope.
    expect(direct).toEqual(bytes);
  });

  it("error statuses come back sealed with their status, as before the change (400, 404)", async () => {
    const { app } = setup();
    for (const [route, payload, status] of [
      ["/v1/chat/completions", { model: "fake", messages: "nope" }, 400],
      ["/v1/chat/completions", chat("missing"), 404],
      ["/v1/nowhere", chat("fake"), 404],
    ] as const) {
      const { res, keys } = await sealedPost(app, route, payload, false);
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toBe("application/cloister-e2e");
      const opened = openBody(keys!, new Uint8Array(await res.arrayBuffer()));
      expect(JSON.parse(utf8.decode(opened.body))).toHaveProperty("error.code");
      // No signature; the inner media type, as in the clear header (the client checks they agree).
      expect(opened.trailers).toEqual({ content_type: res.headers.get("x-cloister-e2e-content-type") });
      expect(opened.trailers["content_type"]).toMatch(/^application\/json/);
    }
  });

  it("trailers that cannot be made for a buffered answer: no answer bytes leave, sealed or in the clear", async () => {
    // A market receipt that JSON cannot carry makes the sealed trailer fail after the inner
    // answer is ready (the buffered path seals at once, so the E2E layer itself throws).
    const poison: MiddlewareHandler<GatewayEnv> = async (c, next) => {
      await next();
      const x = sealedExchange(c);
      if (x) x.marketReceipt = { n: 1n };
    };
    const { app } = setup({ middleware: { outer: [poison] } });
    const { res, keys } = await sealedPost(app, "/v1/chat/completions", chat("fake"), false);
    const bytes = new Uint8Array(await res.arrayBuffer());
    // Since eee0dd5 the E2E layer throws before any response exists: the app's plain 500,
    // which says nothing (before, a 200 whose sealed body errored before its final frame).
    expect(res.status).toBe(500);
    expect(keys).toBeNull();
    expect(utf8.decode(bytes)).not.toContain("sealed hello");
    expect(JSON.parse(utf8.decode(bytes))).toEqual({ error: { message: "internal error", type: "server_error", param: null, code: "internal" } });
  });

  it("a stream that breaks mid-way below the E2E layer: the error reaches the reader, no final frame (E2E_TRUNCATED)", async () => {
    const breaker: MiddlewareHandler<GatewayEnv> = async (c, next) => {
      await next();
      const inner = c.res.body!.getReader();
      let n = 0;
      const broken = new ReadableStream<Uint8Array>(
        {
          async pull(ctrl) {
            if (++n > 3) return ctrl.error(new Error("backend connection reset"));
            const { done, value } = await inner.read();
            if (done) ctrl.close();
            else ctrl.enqueue(value);
          },
          cancel: (r) => inner.cancel(r),
        },
        { highWaterMark: 0 },
      );
      c.res = new Response(broken, { status: c.res.status, headers: c.res.headers });
    };
    const { app, store } = setup({ middleware: { outer: [breaker] } });
    const { res, keys } = await sealedPost(app, "/v1/chat/completions", chat("count", true), true);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const parts: Uint8Array[] = [];
    let error: unknown;
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    } catch (e) {
      error = e;
    }
    expect(String(error)).toMatch(/backend connection reset/);
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
    expect(codeOf(() => openBody(keys!, all))).toBe("E2E_TRUNCATED");
    await tick();
    const rows = await store.listUsage();
    expect(rows[0]?.status).not.toBe("ok");
  });

  it("a client that cancels a sealed stream: the backend's signal aborts and the usage row is cancelled", async () => {
    const { app, store, state } = setup();
    const { res } = await sealedPost(app, "/v1/chat/completions", chat("count", true), true);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel("client gone");
    await tick();
    expect(state.signal?.aborted).toBe(true);
    expect((await store.listUsage())[0]?.status).toBe("cancelled");
  });

  it("reads the backend no further ahead sealed than plain: sealing adds no read-ahead", async () => {
    const ahead = async (sealed: boolean): Promise<number> => {
      const { app, state } = setup();
      const res = sealed
        ? (await sealedPost(app, "/v1/chat/completions", chat("count", true), true)).res
        : await app.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat("count", true)) });
      const reader = res.body!.getReader();
      const READS = 5;
      for (let i = 0; i < READS; i++) await reader.read();
      await tick(50);
      const out = state.yielded - READS;
      await reader.cancel();
      return out;
    };
    const plain = await ahead(false);
    const sealed = await ahead(true);
    expect(sealed).toBe(plain);
    expect(plain).toBeLessThanOrEqual(1);
  });
});
