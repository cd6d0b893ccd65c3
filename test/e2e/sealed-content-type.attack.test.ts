/**
 * Attacks on the sealed request's inner media type (X-Cloister-E2E-Content-Type, the
 * optional eighth aad field) and on the signing of /v1/tokens/issue, by a real proxy in
 * front of a real node (where TLS ends): header duplication, case and whitespace changes,
 * a JSON type appended, the envelope moved to a JSON route, a line break smuggled into the
 * route, the response's inner type relabelled; and what a proxy can fetch about a sealed
 * purchase afterwards (GET /v1/signature/<id>, GET /v1/receipts/<id>).
 */
import { BlindRSAMode, Client } from "@cloudflare/privacypass-ts/lib/src/pub_verif_token.js";
import { TokenChallenge } from "@cloudflare/privacypass-ts/lib/src/auth_scheme/private_token.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientCode } from "../../src/client/codes.js";
import { exchangeText, fetchReceipt } from "../../src/client/receipt.js";
import { RECEIPT_SALT_HEADER } from "../../src/client/response.js";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { ClientError } from "../../src/errors.js";
import { E2EHeader } from "../../src/seal/e2e/headers.js";
import { E2E_INNER_CONTENT_TYPE_HEADER } from "../../src/seal/headers.js";
import { ISSUER_NAME, TOKEN_TYPE } from "../../src/transparency/tokens/issuer.js";
import { startRecordingProxy, startTestNode, type RecordingProxy, type TestNode } from "./client-fixtures.js";

const TOKEN_REQUEST = "application/private-token-request";
let node: TestNode;
let plainNode: TestNode;
let proxy: RecordingProxy;

beforeAll(async () => {
  node = await startTestNode({ requireE2E: true, apiKey: true, tokens: true });
  plainNode = await startTestNode({ requireE2E: false, apiKey: true, tokens: true });
  proxy = await startRecordingProxy(node.url);
});

afterAll(async () => {
  await proxy?.close();
  await node?.close();
  await plainNode?.close();
});

/** One blinded type-2 token request for the node's published issuer key, and the client that can finish it. */
async function tokenRequest(url: string): Promise<{ body: Uint8Array; client: Client }> {
  const dir = (await (await fetch(`${url}/v1/tokens/issuer`)).json()) as { "token-keys": { "token-key": string }[] };
  const key = new Uint8Array(Buffer.from(dir["token-keys"][0]?.["token-key"] ?? "", "base64url"));
  const client = new Client(BlindRSAMode.PSS);
  const body = (await client.createTokenRequest(new TokenChallenge(TOKEN_TYPE, ISSUER_NAME, new Uint8Array(0)), key)).serialize();
  return { body, client };
}

function verified() {
  return createVerifiedFetch({ baseURL: `${proxy.url}/v1`, allowSimulated: true, onFailure: "throw" });
}

async function issueSealed(): Promise<Response> {
  const { body } = await tokenRequest(node.url);
  return verified()(`${proxy.url}/v1/tokens/issue`, { method: "POST", headers: { authorization: `Bearer ${node.apiKey as string}`, "content-type": TOKEN_REQUEST }, body: body.slice() });
}

async function refusal(p: Promise<Response>): Promise<{ code?: string; nodeCode?: unknown; status?: number }> {
  try {
    const res = await p;
    await res.arrayBuffer().catch(() => undefined);
    return { status: res.status };
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
    return { code: err.code, nodeCode: (err.details as { nodeCode?: unknown } | undefined)?.nodeCode };
  }
}

function withTamper<T>(t: RecordingProxy["tamper"], f: () => Promise<T>): Promise<T> {
  proxy.tamper = t;
  return f().finally(() => (proxy.tamper = {}));
}

const isType = (k: string): boolean => k.toLowerCase() === E2EHeader.contentType;

describe("a proxy against the sealed request's inner media type", () => {
  it("untouched, a sealed token request opens and is answered with a token response; a JSON request carries no inner type at all", async () => {
    proxy.exchanges.length = 0;
    const res = await issueSealed();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/private-token-response");
    const f = verified();
    const chat = await f(`${proxy.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${node.apiKey as string}` }, body: JSON.stringify({ model: "fake", messages: [{ role: "user", content: "hi" }] }) });
    expect(chat.status).toBe(200);
    await chat.arrayBuffer();
    const wire = proxy.wire().toLowerCase();
    // One inner type on the wire: the token request's (the chat's JSON is the aad's seven-field form).
    expect(wire.split(`${E2EHeader.contentType}: ${TOKEN_REQUEST}`).length - 1).toBe(1);
    expect(wire.split(`${E2EHeader.contentType}:`).length - 1).toBe(1 + 2 /* both answers' own */);
  });

  it("duplicated, re-cased, parameterised, or with a JSON type appended: the envelope does not open", async () => {
    type Change = (h: [string, string][]) => [string, string][];
    const set = (f: (v: string) => string): Change => (h) => h.map(([k, v]): [string, string] => [k, isType(k) ? f(v) : v]);
    const variants: [string, Change, string][] = [
      // Joined by the node's Headers as "t, t": not the type that was sealed.
      ["sent twice", (h) => [...h, ...h.filter(([k]) => isType(k))], "e2e_decrypt_failed"],
      ["upper-cased", set((v) => v.toUpperCase()), "e2e_decrypt_failed"],
      ["with a parameter", set((v) => `${v}; charset=utf-8`), "e2e_decrypt_failed"],
      ["with application/json appended", (h) => [...h, [E2EHeader.contentType, "application/json"]], "e2e_decrypt_failed"],
      ["dropped (the seven-field aad)", (h) => h.filter(([k]) => !isType(k)), "e2e_decrypt_failed"],
      ["replaced by application/json", set(() => "application/json"), "e2e_malformed"],
      ["emptied", set(() => ""), "e2e_malformed"],
    ];
    for (const [name, change, nodeCode] of variants) {
      const got = await withTamper({ requestHeaders: (path, h) => (path.endsWith("/tokens/issue") ? change(h) : undefined) }, () => refusal(issueSealed()));
      expect({ name, ...got }).toEqual({ name, code: ClientCode.E2E_REJECTED, nodeCode });
    }
  });

  it("padded with spaces it still opens: both sides' Headers drop the same optional whitespace, so the value is the one sealed", async () => {
    const res = await withTamper({ requestHeaders: (path, h) => (path.endsWith("/tokens/issue") ? h.map(([k, v]): [string, string] => [k, isType(k) ? `   ${v}  ` : v]) : undefined) }, issueSealed);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/private-token-response");
  });

  it("moved to a JSON route (the inner type kept or dropped) or to a route with a line break in it: refused as an envelope, before any handler", async () => {
    for (const [to, drop] of [["/v1/chat/completions", false], ["/v1/chat/completions", true], ["/v1/tokens%0Aissue", false], ["/v1/tokens/issue%0A", false]] as const) {
      const got = await withTamper(
        {
          rewritePath: (path) => (path.endsWith("/tokens/issue") ? to : undefined),
          requestHeaders: (path, h) => (path.endsWith("/tokens/issue") && drop ? h.filter(([k]) => !isType(k)) : undefined),
        },
        () => refusal(issueSealed()),
      );
      expect({ to, drop, ...got }).toEqual({ to, drop, code: ClientCode.E2E_REJECTED, nodeCode: "e2e_decrypt_failed" });
    }
  });
});

describe("/v1/tokens/issue answers signed", () => {
  it("sealed: the signature rides only in the sealed trailer; a proxy holding the request id (and even the key) gets no signature row, and the public receipt is the leaf the trailer named", async () => {
    proxy.exchanges.length = 0;
    const { body } = await tokenRequest(node.url);
    const f = verified();
    const res = await f(`${proxy.url}/v1/tokens/issue`, { method: "POST", headers: { authorization: `Bearer ${node.apiKey as string}`, "content-type": TOKEN_REQUEST }, body: body.slice() });
    // 200 from the verifying fetch: the sealed trailer carried a signature over these exact bytes.
    expect(res.status).toBe(200);
    const answer = new Uint8Array(await res.arrayBuffer());
    const id = res.headers.get("x-cloister-request-id") ?? "";
    expect(id).not.toBe("");
    expect(proxy.wire().toLowerCase()).not.toContain("x-cloister-signature");
    expect(proxy.wire().toLowerCase()).not.toContain("x-cloister-receipt-index");
    for (const algo of ["ecdsa", "ed25519"]) {
      const sig = await fetch(`${node.url}/v1/signature/${encodeURIComponent(id)}?signing_algo=${algo}`, { headers: { authorization: `Bearer ${node.apiKey as string}` } });
      expect(sig.status).toBe(404);
    }
    const index = Number(res.headers.get("x-cloister-receipt-index"));
    const receipt = await fetchReceipt(`${node.url}/v1`, id, f.pinned!, exchangeText(body, answer), fetch, index, res.headers.get(RECEIPT_SALT_HEADER) ?? undefined);
    // The public proof leaves the salt out: with it, the request id (in the clear) and a guess would be checkable.
    expect(receipt.salt).toBeNull();
    expect(receipt.index).toBe(index);
  });

  it("plain (a node that takes plain requests): the answer is signed over these bytes, and its row is served to that key only", async () => {
    const { body, client } = await tokenRequest(plainNode.url);
    const f = createVerifiedFetch({ baseURL: `${plainNode.url}/v1`, allowSimulated: true, e2e: false, onFailure: "throw" });
    const res = await f(`${plainNode.url}/v1/tokens/issue`, { method: "POST", headers: { authorization: `Bearer ${plainNode.apiKey as string}`, "content-type": TOKEN_REQUEST }, body: body.slice() });
    expect(res.status).toBe(200);
    const answer = new Uint8Array(await res.arrayBuffer());
    await expect(client.finalize(client.deserializeTokenResponse(answer))).resolves.toBeDefined();
    const id = res.headers.get("x-cloister-request-id") ?? "";
    const mine = await fetch(`${plainNode.url}/v1/signature/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${plainNode.apiKey as string}` } });
    expect(mine.status).toBe(200);
    expect(((await mine.json()) as { text: string }).text.startsWith(exchangeText(body, answer))).toBe(true);
    expect((await fetch(`${plainNode.url}/v1/signature/${encodeURIComponent(id)}`)).status).toBe(401);
  });
});

describe("a proxy relabelling the sealed response's media type", () => {
  const relabel = (match: string, to: string | null): RecordingProxy["tamper"] => ({
    responseHeaders: (path, h) => {
      if (!path.endsWith(match)) return undefined;
      const out = { ...h };
      if (to === null) delete out[E2E_INNER_CONTENT_TYPE_HEADER];
      else out[E2E_INNER_CONTENT_TYPE_HEADER] = to;
      return out;
    },
  });
  const chat = (stream: boolean) => () =>
    verified()(`${proxy.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${node.apiKey as string}` }, body: JSON.stringify({ model: "fake", stream, messages: [{ role: "user", content: "hi" }] }) });

  it("is refused: the type the caller is handed is the one the node sealed (token response, JSON answer, or dropped)", async () => {
    for (const [match, to, send] of [
      ["/tokens/issue", "application/json", issueSealed],
      ["/chat/completions", "text/html", chat(false)],
      ["/chat/completions", null, chat(false)],
    ] as const) {
      const got = await withTamper(relabel(match, to), () => refusal(send()));
      expect({ match, to, ...got }).toMatchObject({ match, to, code: ClientCode.E2E_MALFORMED });
    }
  });

  it("a stream handed on under another type errors at its end, like a bad signature", async () => {
    const got = await withTamper(relabel("/chat/completions", "application/json"), async () => {
      const res = await chat(true)();
      return refusal(res.text().then(() => res));
    });
    expect(got).toMatchObject({ code: ClientCode.E2E_MALFORMED });
  });
});

