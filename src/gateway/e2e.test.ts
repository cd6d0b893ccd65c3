import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { requestAad } from "../seal/e2e/aad.js";
import { E2EHeader, fromBase64Url, toBase64Url } from "../seal/e2e/headers.js";
import { sealRequest } from "../seal/e2e/request.js";
import { FrameOpener, FrameSealer, nobleAesGcm, type FrameKeys } from "../seal/e2e/frames.js";
import { deriveResponseKeys } from "../seal/e2e/response.js";
import { e2eKeyId, generateE2EKeyPair } from "../seal/e2e/suite.js";
import { utf8 } from "../util/bytes.js";
import { bodyBytes, type GatewayEnv } from "./context.js";
import { e2eMiddleware, nodeAesGcm } from "./e2e.js";
import { GatewayCode } from "./errors.js";
import { GatewayError } from "../errors.js";
import { bodyLimit } from "./middleware/limits.js";

const keys = generateE2EKeyPair();
const keyId = e2eKeyId(keys.publicKey);

/** A bare app: echo handler (non-stream, signed by header) and a slow SSE handler we can pace. */
function app(required = false, gate?: Promise<void>) {
  const a = new Hono();
  a.use("/v1/*", e2eMiddleware({ ...keys, required, signatureFor: (id) => ({ text: `late:${id}`, signature: "00", signing_address: "0xabc", signing_algo: "ecdsa" }) }));
  a.post("/v1/chat/completions", async (c) => {
    const body = (await c.req.json()) as { stream?: boolean; messages: { content: string }[] };
    if (!body.stream) {
      return c.json({ echo: body.messages[0]?.content }, 200, { "x-cloister-signature": JSON.stringify({ text: "t", signature: "s", signing_address: "0xabc", signing_algo: "ecdsa" }), "x-cloister-request-id": "chatcmpl-1" });
    }
    const stream = new ReadableStream<Uint8Array>({
      async start(ctl) {
        ctl.enqueue(utf8.encode("data: first\n\n"));
        await gate;
        ctl.enqueue(utf8.encode("data: second\n\n"));
        ctl.close();
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream", "x-cloister-request-id": "chatcmpl-2" } });
  });
  return a;
}

async function sealed(stream: boolean, over: Record<string, string> = {}) {
  const body = utf8.encode(JSON.stringify({ model: "m", stream, messages: [{ content: "hush" }] }));
  const time = Math.floor(Date.now() / 1000);
  const s = await sealRequest(keys.publicKey, body, requestAad({ method: "POST", route: "/v1/chat/completions", model: "m", stream, keyId, time }));
  const headers = { [E2EHeader.version]: "v1", [E2EHeader.enc]: toBase64Url(s.enc), [E2EHeader.keyId]: keyId, [E2EHeader.model]: "m", [E2EHeader.stream]: String(stream), [E2EHeader.time]: String(time), ...over };
  return { s, init: { method: "POST", headers, body: s.ciphertext.slice() } };
}

function responseKeys(res: Response, s: { responseSecret: Uint8Array; enc: Uint8Array }): FrameKeys {
  return deriveResponseKeys(s.responseSecret, s.enc, fromBase64Url(res.headers.get(E2EHeader.responseNonce) ?? "")!);
}

describe("the node's AES-256-GCM (node:crypto)", () => {
  it("produces exactly the frames the browser-safe one opens, and refuses the same tampering", () => {
    const k: FrameKeys = { key: crypto.getRandomValues(new Uint8Array(32)), baseNonce: crypto.getRandomValues(new Uint8Array(12)) };
    const msgs = ["data: a\n\n", "", "x".repeat(70_000)];
    const a = new FrameSealer(k, nodeAesGcm);
    const b = new FrameSealer(k, nobleAesGcm);
    for (const [i, m] of msgs.entries()) expect(a.seal(utf8.encode(m), i === msgs.length - 1)).toEqual(b.seal(utf8.encode(m), i === msgs.length - 1));
    const frame = new FrameSealer(k, nobleAesGcm).seal(utf8.encode("hello"), true);
    expect(utf8.decode(new FrameOpener(k, nodeAesGcm).push(frame)[0]!.plaintext)).toBe("hello");
    frame[frame.length - 1] = (frame[frame.length - 1] ?? 0) ^ 1;
    expect(() => new FrameOpener(k, nodeAesGcm).push(frame)).toThrow(/did not authenticate/);
  });
});

describe("e2eMiddleware", () => {
  it("hands the handler plaintext and seals the answer, moving the signature into the sealed trailer", async () => {
    const { s, init } = await sealed(false);
    const res = await app().request("/v1/chat/completions", init);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-cloister-signature")).toBeNull();
    expect(res.headers.get("x-cloister-request-id")).toBe("chatcmpl-1");
    expect(res.headers.get("content-type")).toBe("application/cloister-e2e");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(utf8.decode(bytes)).not.toContain("hush");
    const o = new FrameOpener(responseKeys(res, s));
    const frames = o.push(bytes);
    o.end();
    expect(JSON.parse(utf8.decode(frames[0]!.plaintext))).toEqual({ echo: "hush" });
    expect(JSON.parse(utf8.decode(frames.at(-1)!.plaintext))).toMatchObject({ signature: { text: "t" } });
  });

  it("keeps a stream a stream: the first event can be opened before the handler has finished", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { s, init } = await sealed(true);
    const res = await app(false, gate).request("/v1/chat/completions", init);
    const reader = res.body!.getReader();
    const o = new FrameOpener(responseKeys(res, s));
    const first = await reader.read();
    expect(utf8.decode(o.push(first.value!)[0]!.plaintext)).toBe("data: first\n\n");
    release();
    const rest: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest.push(r.value);
    const frames = rest.flatMap((b) => o.push(b));
    o.end();
    expect(utf8.decode(frames[0]!.plaintext)).toBe("data: second\n\n");
    // The stream's signature is only known at the end; the hook supplies it, sealed.
    expect(JSON.parse(utf8.decode(frames.at(-1)!.plaintext))).toMatchObject({ signature: { text: "late:chatcmpl-2" } });
  });

  it("answers bad envelopes with OpenAI-shaped 400s", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ [E2EHeader.enc]: "!!" }, "e2e_malformed"],
      [{ [E2EHeader.keyId]: "00".repeat(32) }, "e2e_key_unknown"],
      [{ [E2EHeader.version]: "v9" }, "e2e_version_unsupported"],
      [{ [E2EHeader.model]: "other" }, "e2e_decrypt_failed"],
      [{ [E2EHeader.stream]: "true" }, "e2e_decrypt_failed"],
    ];
    for (const [over, code] of cases) {
      const { init } = await sealed(false, over);
      const res = await app().request("/v1/chat/completions", init);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string; type: string } }).error).toMatchObject({ code, type: "invalid_request_error" });
    }
  });

  it("refuses plain requests when E2E is required, and lets them through otherwise", async () => {
    const plain = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ messages: [{ content: "x" }] }) };
    const refused = await app(true).request("/v1/chat/completions", plain);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("e2e_required");
    expect((await app(false).request("/v1/chat/completions", plain)).status).toBe(200);
  });
});

describe("an opened request meets the body limit inside", () => {
  /** e2e, then the route's own (smaller) body limit, then a handler that reports what it was given. */
  function limited(maxBytes: number) {
    const a = new Hono<GatewayEnv>();
    a.onError((err, c) => c.json({ code: err instanceof GatewayError ? err.code : "other" }, err instanceof GatewayError ? (err.status as 413) : 500));
    a.use("/v1/*", e2eMiddleware({ ...keys, required: false }));
    a.use("/v1/*", async (c, next) => (c.set("signal", new AbortController().signal), next()));
    a.use("/v1/*", bodyLimit(maxBytes));
    a.post("/v1/chat/completions", async (c) => c.json({ length: c.req.header("content-length"), bytes: (await bodyBytes(c)).length, text: await c.req.text() }));
    return a;
  }

  async function sealedOf(plaintext: string) {
    const time = Math.floor(Date.now() / 1000);
    const s = await sealRequest(keys.publicKey, utf8.encode(plaintext), requestAad({ method: "POST", route: "/v1/chat/completions", model: "m", stream: false, keyId, time }));
    const headers = { [E2EHeader.version]: "v1", [E2EHeader.enc]: toBase64Url(s.enc), [E2EHeader.keyId]: keyId, [E2EHeader.model]: "m", [E2EHeader.stream]: "false", [E2EHeader.time]: String(time) };
    return { s, init: { method: "POST", headers, body: s.ciphertext.slice() } };
  }

  it("a plaintext over the route's limit is a 413 though its envelope passed the outer one; one within reaches the handler whole, with its own length", async () => {
    const big = await sealedOf(JSON.stringify({ model: "m", pad: "x".repeat(200) }));
    const refused = await limited(100).request("/v1/chat/completions", big.init);
    const o = new FrameOpener(responseKeys(refused, big.s));
    const frames = o.push(new Uint8Array(await refused.arrayBuffer()));
    expect({ status: refused.status, body: JSON.parse(utf8.decode(frames[0]!.plaintext)) }).toEqual({ status: 413, body: { code: GatewayCode.BODY_TOO_LARGE } });
    const text = JSON.stringify({ model: "m", pad: "y" });
    const small = await sealedOf(text);
    const ok = await limited(100).request("/v1/chat/completions", small.init);
    const got = new FrameOpener(responseKeys(ok, small.s)).push(new Uint8Array(await ok.arrayBuffer()));
    expect(JSON.parse(utf8.decode(got[0]!.plaintext))).toEqual({ length: String(text.length), bytes: text.length, text });
  });
});
