import { describe, expect, it } from "vitest";
import { ClientCode } from "../../src/client/codes.js";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createCloisterClient } from "../../src/client/cloister-client.js";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { ClientError } from "../../src/errors.js";
import { ANSWER, startTestNode } from "./client-fixtures.js";
import { useNodeBehindProxy } from "./client-env.js";

const PROMPT = "my diagnosis is confidential-narwhal-syndrome";

function chatBody(stream: boolean): string {
  return JSON.stringify({ model: "fake", stream, messages: [{ role: "user", content: PROMPT }] });
}

const env = useNodeBehindProxy();

describe("verified fetch through a recording proxy", () => {
  it("attests first, then sends the chat sealed; the proxy never sees the prompt or the answer", async () => {
    const f = createVerifiedFetch({ baseURL: `${env.proxy.url}/v1`, allowSimulated: true });
    const res = await f(`${env.proxy.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: chatBody(false) });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(json.choices[0]?.message.content).toBe(ANSWER);
    expect(f.pinned?.simulated).toBe(true);
    expect(env.proxy.exchanges[0]?.path).toMatch(/^\/v1\/attestation\/report\?nonce=[0-9a-f]{64}/);
    const wire = env.proxy.wire();
    expect(wire).toContain("x-cloister-e2e");
    expect(wire).not.toContain("narwhal");
    expect(wire).not.toContain("pangolin");
    expect(wire).not.toContain("ultraviolet");
  });

  it("streams sealed events and hands back plain SSE, verified at the end", async () => {
    const f = createVerifiedFetch({ baseURL: `${env.proxy.url}/v1`, allowSimulated: true });
    const before = env.proxy.exchanges.length;
    const res = await f(`${env.proxy.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: chatBody(true) });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text();
    expect(text).toContain("pangolin");
    expect(text).toContain("data: [DONE]");
    const wire = env.proxy.wire();
    expect(wire).not.toContain("narwhal");
    expect(wire).not.toContain("pangolin");
    // Neither the signature endpoint nor a plaintext trailer was needed: it came sealed.
    expect(env.proxy.exchanges.slice(before).some((e) => e.path.startsWith("/v1/signature/"))).toBe(false);
  });

  it("without E2E still checks the signature against the pinned key (non-stream and stream)", async () => {
    const f = createVerifiedFetch({ baseURL: `${env.proxy.url}/v1`, allowSimulated: true, e2e: false });
    const res = await f(`${env.proxy.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: chatBody(false) });
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe(ANSWER);
    const s = await f(`${env.proxy.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: chatBody(true) });
    expect(await s.text()).toContain("pangolin");
  });

  it("refuses simulated evidence unless allowed, and sends nothing of the caller's", async () => {
    const f = createVerifiedFetch({ baseURL: `${env.proxy.url}/v1`, onFailure: "throw" });
    const before = env.proxy.exchanges.length;
    const err = await f(`${env.proxy.url}/v1/chat/completions`, { method: "POST", body: chatBody(false) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe(ClientCode.ATTESTATION_FAILED);
    expect((err as ClientError).details?.["attestCodes"]).toContain("SIMULATED_NOT_ALLOWED");
    const after = env.proxy.exchanges.slice(before);
    expect(after.every((e) => e.path.startsWith("/v1/attestation/report"))).toBe(true);
  });

  it("re-attests when the pin ages out", async () => {
    let t = Date.now();
    const f = createVerifiedFetch({ baseURL: `${env.proxy.url}/v1`, allowSimulated: true, maxAttestationAgeMs: 1000, now: () => t });
    const a = await f.attest();
    expect(await f.attest()).toBe(a);
    t += 2000;
    const b = await f.attest();
    expect(b).not.toBe(a);
    expect(b.nonce).not.toBe(a.nonce);
  });
});

describe("with API keys on", () => {
  it("sends the caller's key with the sealed request and with GET /v1/signature for a plain stream", async () => {
    const authed = await startTestNode({ apiKey: true });
    try {
      for (const e2e of [true, false]) {
        const f = createVerifiedFetch({ baseURL: `${authed.url}/v1`, allowSimulated: true, e2e });
        const res = await f(`${authed.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${authed.apiKey}` }, body: chatBody(true) });
        expect(await res.text()).toContain("pangolin");
      }
      const f = createVerifiedFetch({ baseURL: `${authed.url}/v1`, allowSimulated: true });
      const denied = await f(`${authed.url}/v1/chat/completions`, { method: "POST", body: chatBody(false) });
      // Auth sits outside E2E: its 401 is plain and carries nothing of ours, so it passes through.
      expect(denied.status).toBe(401);
    } finally {
      await authed.close();
    }
  });

  it("concurrent first calls share one attestation", async () => {
    const f = createVerifiedFetch({ baseURL: `${env.proxy.url}/v1`, allowSimulated: true });
    const before = env.proxy.exchanges.length;
    const texts = await Promise.all([1, 2, 3].map(() => f(`${env.proxy.url}/v1/chat/completions`, { method: "POST", body: chatBody(false) }).then((r) => r.text())));
    expect(texts.every((t) => t.includes("pangolin"))).toBe(true);
    expect(env.proxy.exchanges.slice(before).filter((e) => e.path.startsWith("/v1/attestation/report")).length).toBe(1);
  });
});

describe("createCloisterClient (our own typed client)", () => {
  it("returns a verified completion and an async iterable of verified chunks", async () => {
    const client = createCloisterClient({ baseURL: `${env.proxy.url}/v1`, allowSimulated: true });
    const r = await client.chat.completions.create({ model: "fake", messages: [{ role: "user", content: PROMPT }] });
    expect(r.choices[0]?.message.content).toBe(ANSWER);
    const parts: string[] = [];
    for await (const c of await client.chat.completions.create({ model: "fake", messages: [{ role: "user", content: PROMPT }], stream: true })) {
      parts.push(c.choices[0]?.delta.content ?? "");
    }
    expect(parts.join("")).toBe(ANSWER);
    expect((await client.attestation()).signingAddress).toMatch(/^0x[0-9a-f]{40}$/);
  });

  it("turns an HTTP error into a ClientError carrying the node's code", async () => {
    const client = createCloisterClient({ baseURL: `${env.proxy.url}/v1`, allowSimulated: true });
    const err = await client.chat.completions.create({ model: "no-such-model", messages: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe(ClientCode.API_ERROR);
    expect((err as ClientError).details?.["status"]).toBe(400);
  });
});

describe("browser safety", () => {
  it("src/client and src/seal import nothing from node:* (the default verifier is loaded lazily)", () => {
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith(".ts") && !p.endsWith(".test.ts")) files.push(p);
      }
    };
    walk("src/client");
    walk("src/seal");
    expect(files.length).toBeGreaterThan(8);
    for (const f of files) {
      const text = readFileSync(f, "utf8");
      expect(text, f).not.toMatch(/from "node:|import\("node:|require\(/);
      // Static imports may not reach the Node-only verifier; only default-verifier.ts imports it, dynamically.
      expect(text, f).not.toMatch(/^import [^;]*attest\/(verify|report|intel|snp|nvidia)/m);
    }
  });
});
