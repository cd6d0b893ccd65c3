import { describe, expect, it } from "vitest";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { useNodeBehindProxy } from "./client-env.js";

const env = useNodeBehindProxy();

describe("plain (non-E2E) answers are bound to a fresh client nonce", () => {
  it("refuses a signed answer replayed from an earlier identical request", async () => {
    let saved: { body: ArrayBuffer; status: number; headers: Headers } | null = null;
    // A MITM (the proxy, or anything between TLS and the node) that answers request 2 with answer 1.
    const mitm: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (!url.endsWith("/chat/completions")) return fetch(input, init);
      if (saved) return new Response(saved.body.slice(0), { status: saved.status, headers: saved.headers });
      const res = await fetch(input, init);
      saved = { body: await res.arrayBuffer(), status: res.status, headers: new Headers(res.headers) };
      return new Response(saved.body.slice(0), { status: saved.status, headers: saved.headers });
    };
    const f = createVerifiedFetch({ baseURL: `${env.proxy.url}/v1`, allowSimulated: true, e2e: false, fetch: mitm, onFailure: "throw" });
    const body = JSON.stringify({ model: "fake", messages: [{ role: "user", content: "what is the vault code today?" }] });
    const first = (await (await f(`${env.proxy.url}/v1/chat/completions`, { method: "POST", body })).json()) as { id: string };
    const second = f(`${env.proxy.url}/v1/chat/completions`, { method: "POST", body }).then((r) => r.json() as Promise<{ id: string }>);
    await expect(second).rejects.toMatchObject({ code: "SIGNATURE_INVALID" });
    expect(first.id).toBeTruthy();
  });
});
