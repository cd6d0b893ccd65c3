/**
 * The client fails closed (issue #7 items 1, 6, 8 and the client checks of 13): each test
 * performs the attack through a real recording/tampering HTTP proxy between the verified
 * fetch and a real node (gateway + simulator TEE, API keys on).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { OpenAI } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSimulatedNode } from "../../src/attest/simulator/report.js";
import { chatCommand } from "../../src/cli/commands/chat.js";
import type { CliIO } from "../../src/cli/io.js";
import { ClientCode } from "../../src/client/codes.js";
import { defaultReportVerifier } from "../../src/client/default-verifier.js";
import { createVerifiedFetch, type VerifiedFetchOptions } from "../../src/client/verified-fetch.js";
import { ClientError } from "../../src/errors.js";
import { E2EHeader } from "../../src/seal/e2e/headers.js";
import { REQUEST_ID_HEADER, SIGNATURE_HEADER } from "../../src/seal/headers.js";
import { fromHex } from "../../src/util/bytes.js";
import { ANSWER, clientCodeOf } from "./client-fixtures.js";
import { useNodeBehindProxy } from "./client-env.js";

const env = useNodeBehindProxy({ apiKey: true });
const PROMPT = "my mother's maiden name is quetzalcoatl-march";
const chatBody = (stream = false) => JSON.stringify({ model: "fake", stream, messages: [{ role: "user", content: PROMPT }] });

/** A server a hostile proxy redirects to; it must never hear from the client. */
let evil: Server;
let evilURL = "";
const evilHits: string[] = [];
beforeAll(async () => {
  evil = createServer((req, res) => {
    evilHits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((r) => evil.listen(0, "127.0.0.1", r));
  evilURL = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => evil.close(() => r())));

let exchangesStart = 0;
let wireStart = 0;
beforeEach(() => {
  env.proxy.tamper = {};
  exchangesStart = env.proxy.exchanges.length;
  wireStart = env.proxy.wire().length;
});
const sent = () => env.proxy.exchanges.slice(exchangesStart);
const wireSince = () => env.proxy.wire().slice(wireStart);

function vf(over: Partial<VerifiedFetchOptions> = {}) {
  return createVerifiedFetch({ baseURL: `${env.proxy.url}/v1`, allowSimulated: true, onFailure: "throw", ...over });
}
const auth = () => ({ "content-type": "application/json", authorization: `Bearer ${env.node.apiKey ?? ""}` });


describe("routes the client will not send (refused before a byte leaves)", () => {
  it.each([
    ["GET /v1/signature/<id>", "/v1/signature/chatcmpl-x", "GET"],
    ["DELETE under the base", "/v1/chat/completions", "DELETE"],
    ["POST outside the base", "/v2/chat/completions", "POST"],
    ["GET of an unknown route", "/v1/files", "GET"],
  ])("%s: ROUTE_REFUSED, nothing reaches the proxy", async (_name, path, method) => {
    const f = vf();
    const init: RequestInit = { method, headers: auth(), ...(method === "POST" ? { body: chatBody() } : {}) };
    expect(await clientCodeOf(f(`${env.proxy.url}${path}`, init))).toBe(ClientCode.ROUTE_REFUSED);
    expect(sent()).toEqual([]);
  });

  it("another origin: ROUTE_REFUSED, the other server hears nothing", async () => {
    const before = evilHits.length;
    expect(await clientCodeOf(vf()(`${evilURL}/v1/chat/completions`, { method: "POST", headers: auth(), body: chatBody() }))).toBe(ClientCode.ROUTE_REFUSED);
    expect(evilHits.length).toBe(before);
  });

  it("public reads are answered, shape-checked, and carry no API key under E2E", async () => {
    const f = vf();
    const models = (await (await f(`${env.proxy.url}/v1/models`, { headers: auth() })).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toContain("fake");
    expect((await f(`${env.proxy.url}/health`)).status).toBe(200);
    env.proxy.tamper = { respond: (_m, p) => (p.startsWith("/v1/models") ? { status: 200, headers: { "content-type": "text/html" }, body: "<script>steal()</script>" } : undefined) };
    expect(await clientCodeOf(f(`${env.proxy.url}/v1/models`))).toBe(ClientCode.PUBLIC_ANSWER_INVALID);
    expect(wireSince()).not.toContain("sk-cloister");
  });
});

describe("redirects are refused, never followed", () => {
  it.each([302, 307, 308])("a %i on a sealed request: REDIRECT_REFUSED, and the redirect target hears nothing", async (status) => {
    const f = vf();
    await f.attest();
    const before = evilHits.length;
    env.proxy.tamper = { respond: (m, p) => (m === "POST" && p.startsWith("/v1/chat/completions") ? { status, headers: { location: `${evilURL}/steal` }, body: "" } : undefined) };
    expect(await clientCodeOf(f(`${env.proxy.url}/v1/chat/completions`, { method: "POST", headers: auth(), body: chatBody() }))).toBe(ClientCode.REDIRECT_REFUSED);
    expect(evilHits.length).toBe(before);
  });

  it("a redirect of the attestation report: REDIRECT_REFUSED, nothing of the caller's sent", async () => {
    env.proxy.tamper = { respond: (_m, p) => (p.startsWith("/v1/attestation/report") ? { status: 302, headers: { location: `${evilURL}/report` }, body: "" } : undefined) };
    const before = evilHits.length;
    expect(await clientCodeOf(vf()(`${env.proxy.url}/v1/chat/completions`, { method: "POST", headers: auth(), body: chatBody() }))).toBe(ClientCode.REDIRECT_REFUSED);
    expect(evilHits.length).toBe(before);
    expect(sent().every((e) => e.path.startsWith("/v1/attestation/report"))).toBe(true);
  });

  it("through the openai SDK (default retries): one attempt, our code", async () => {
    env.proxy.tamper = { respond: (m, p) => (m === "POST" && p.startsWith("/v1/chat/completions") ? { status: 307, headers: { location: `${evilURL}/steal` }, body: "" } : undefined) };
    const baseURL = `${env.proxy.url}/v1`;
    const sdk = new OpenAI({ baseURL, apiKey: env.node.apiKey ?? "", fetch: createVerifiedFetch({ baseURL, allowSimulated: true }) });
    const err = await sdk.chat.completions.create({ model: "fake", messages: [{ role: "user", content: PROMPT }] }).catch((e: unknown) => e);
    expect((err as { code?: unknown }).code).toBe(ClientCode.REDIRECT_REFUSED);
    expect(sent().filter((e) => e.method === "POST").length).toBe(1);
  });
});

describe("under E2E the API key and the signature never cross in the clear", () => {
  it("a whole session (report, models, chat, stream) shows the proxy no sk-cloister bytes and no signed hashes", async () => {
    const f = vf({ headers: { authorization: `Bearer ${env.node.apiKey ?? ""}` } });
    await f(`${env.proxy.url}/v1/models`, { headers: auth() });
    expect(await (await f(`${env.proxy.url}/v1/chat/completions`, { method: "POST", headers: auth(), body: chatBody() })).text()).toContain("pangolin");
    expect(await (await f(`${env.proxy.url}/v1/chat/completions`, { method: "POST", headers: auth(), body: chatBody(true) })).text()).toContain("pangolin");
    const wire = wireSince();
    expect(wire).not.toContain("sk-cloister");
    expect(wire.toLowerCase()).not.toContain("authorization:");
    expect(wire.toLowerCase()).not.toContain(`${SIGNATURE_HEADER}:`);
    expect(wire).not.toContain("quetzalcoatl");
  });

  it("GET /v1/signature/<id> of a sealed exchange is a 404 even with the right key", async () => {
    const f = vf();
    const res = await f(`${env.proxy.url}/v1/chat/completions`, { method: "POST", headers: auth(), body: chatBody(true) });
    expect(await res.text()).toContain("pangolin");
    // The request id is visible to the proxy; with the key it still learns nothing.
    const id = res.headers.get(REQUEST_ID_HEADER) ?? "";
    expect(id).toMatch(/^chatcmpl-/);
    const direct = await fetch(`${env.node.url}/v1/signature/${id}`, { headers: { authorization: `Bearer ${env.node.apiKey ?? ""}` } });
    expect(direct.status).toBe(404);
    // A plain exchange's signature is still served to its key.
    const plain = await vf({ e2e: false })(`${env.proxy.url}/v1/chat/completions`, { method: "POST", headers: auth(), body: chatBody() });
    expect(await plain.text()).toContain("pangolin");
    const plainId = plain.headers.get(REQUEST_ID_HEADER) ?? "";
    expect((await fetch(`${env.node.url}/v1/signature/${plainId}`, { headers: { authorization: `Bearer ${env.node.apiKey ?? ""}` } })).status).toBe(200);
  });

  it("the node authenticates a sealed request only from the sealed credential", async () => {
    // A proxy that strips the sealed credential and puts a (stolen) plaintext key beside the envelope gets a 401.
    const moved: typeof fetch = async (input, init) => {
      const h = new Headers(init?.headers);
      if (h.has(E2EHeader.auth)) {
        h.delete(E2EHeader.auth);
        h.set("authorization", `Bearer ${env.node.apiKey ?? ""}`);
      }
      return fetch(input, { ...init, headers: h });
    };
    const res = await vf({ fetch: moved })(`${env.proxy.url}/v1/chat/completions`, { method: "POST", headers: auth(), body: chatBody() });
    expect(res.status).toBe(401);
  });
});

describe("client checks no other check stands in for (issue #7 item 13)", () => {
  it("an unsealed 200 answer to a sealed request: E2E_RESPONSE_UNSEALED, the forged text never reaches the caller", async () => {
    env.proxy.tamper = {
      respond: (m, p) => (m === "POST" && p.startsWith("/v1/chat/completions") ? { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ id: "x", choices: [{ message: { content: "FORGED" } }] }) } : undefined),
    };
    expect(await clientCodeOf(vf()(`${env.proxy.url}/v1/chat/completions`, { method: "POST", headers: auth(), body: chatBody() }))).toBe(ClientCode.E2E_RESPONSE_UNSEALED);
  });

  it.each([false, true])("plain mode, signature and request-id headers stripped (stream: %s): SIGNATURE_MISSING", async (stream) => {
    env.proxy.tamper = {
      responseHeaders: (p, h) => {
        if (!p.startsWith("/v1/chat/completions")) return undefined;
        const out = { ...h };
        delete out[SIGNATURE_HEADER];
        delete out[REQUEST_ID_HEADER];
        delete out["trailer"];
        return out;
      },
    };
    const f = vf({ e2e: false });
    const got = f(`${env.proxy.url}/v1/chat/completions`, { method: "POST", headers: auth(), body: chatBody(stream) }).then((r) => r.text());
    expect(await clientCodeOf(got)).toBe(ClientCode.SIGNATURE_MISSING);
  });

  it("a TLS-bound report whose nonce half is not ours: NONCE_MISMATCH before the report is even verified", async () => {
    const stale = await createSimulatedNode({ tlsSpki: new TextEncoder().encode("spki-der-of-the-enclave-cert") }).report(fromHex("22".repeat(32)));
    expect(stale.tls_spki_sha256).toMatch(/^[0-9a-f]{64}$/);
    env.proxy.tamper = {
      respond: (_m, p) => {
        if (!p.startsWith("/v1/attestation/report")) return undefined;
        // The echo says our nonce; the bound report_data carries another one.
        const nonce = new URL(p, "http://x").searchParams.get("nonce") ?? "";
        return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ ...stale, request_nonce: nonce }) };
      },
    };
    let verifierCalls = 0;
    const f = vf({ verifyReport: (r, o) => (verifierCalls++, defaultReportVerifier(r, o)) });
    expect(await clientCodeOf(f.attest())).toBe(ClientCode.NONCE_MISMATCH);
    expect(verifierCalls).toBe(0);
  });

  it("a report for another signing algorithm than asked (a proxy rewrote signing_algo): ATTESTATION_FAILED", async () => {
    env.proxy.tamper = { rewritePath: (p) => (p.startsWith("/v1/attestation/report") ? p.replace("signing_algo=ecdsa", "signing_algo=ed25519") : undefined) };
    const f = vf();
    const err = await f.attest().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe(ClientCode.ATTESTATION_FAILED);
    expect((err as ClientError).message).toMatch(/asked for ecdsa/);
    expect(f.pinned).toBeNull();
  });
});

describe("cloister chat --url with a path prefix", () => {
  const io = (): CliIO & { stdout: string[]; stderr: string[] } => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    return { stdout, stderr, out: (t) => void stdout.push(t), err: (t) => void stderr.push(t), env: { CLOISTER_API_KEY: env.node.apiKey ?? "" }, cwd: process.cwd() };
  };
  const tenant = (p: string): string | undefined => (p.startsWith("/v1/tenant/x/v1/") ? p.replace("/v1/tenant/x/v1/", "/v1/") : undefined);

  it("http://proxy/v1/tenant/x: the answer is sealed (the proxy sees no prompt) and verified", async () => {
    env.proxy.tamper = { rewritePath: tenant };
    const out = io();
    expect(await chatCommand(["--url", `${env.proxy.url}/v1/tenant/x`, "--model", "fake", "--allow-simulated", "--json", PROMPT], out)).toBe(0);
    expect(JSON.parse(out.stdout.join(""))).toMatchObject({ verified: true, e2ee: true, content: ANSWER });
    expect(wireSince()).not.toContain("quetzalcoatl");
    expect(wireSince()).not.toContain("sk-cloister");
  });

  it("a forged plaintext answer behind the prefix is never printed as verified", async () => {
    env.proxy.tamper = {
      rewritePath: tenant,
      respond: (m, p) => (m === "POST" && p.includes("/chat/completions") ? { status: 200, headers: { "content-type": "text/event-stream" }, body: 'data: {"choices":[{"delta":{"content":"FORGED"}}]}\n\ndata: [DONE]\n\n' } : undefined),
    };
    const out = io();
    expect(await chatCommand(["--url", `${env.proxy.url}/v1/tenant/x`, "--model", "fake", "--allow-simulated", "--json", PROMPT], out)).toBe(1);
    const printed = JSON.parse(out.stdout.join("")) as { verified: boolean; error?: { code: string } };
    expect(printed.verified).toBe(false);
    expect(printed.error?.code).toBe(ClientCode.E2E_RESPONSE_UNSEALED);
    expect(out.stdout.join("")).not.toContain("FORGED");
  });
});
