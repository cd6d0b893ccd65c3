/**
 * /v1/responses fails closed in the verifying client like chat completions: each attack
 * is performed by the recording/tampering proxy between createVerifiedFetch and a real
 * node (gateway + simulator TEE, API keys on), plain and sealed, streamed and not. The
 * Responses stream has no `[DONE]`, so nothing but the signature and the sealed trailer
 * tells the client it was given the whole answer.
 */
import { describe, expect, it } from "vitest";
import { ClientCode } from "../../src/client/codes.js";
import { createVerifiedFetch, type VerifiedFetchOptions } from "../../src/client/verified-fetch.js";
import { REQUEST_ID_HEADER, SIGNATURE_HEADER } from "../../src/seal/headers.js";
import { ANSWER, clientCodeOf, dropFinalFrames, flipByte } from "./client-fixtures.js";
import { useNodeBehindProxy } from "./client-env.js";

const env = useNodeBehindProxy({ apiKey: true });
const isResponses = (p: string): boolean => p.startsWith("/v1/responses");
const body = (stream: boolean) => JSON.stringify({ model: "fake", stream, input: "say the code" });

function vf(over: Partial<VerifiedFetchOptions> = {}) {
  return createVerifiedFetch({ baseURL: `${env.proxy.url}/v1`, allowSimulated: true, onFailure: "throw", ...over });
}
const ask = (stream: boolean, over: Partial<VerifiedFetchOptions> = {}) =>
  vf(over)(`${env.proxy.url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${env.node.apiKey ?? ""}` }, body: body(stream) }).then((r) => r.text());


describe("/v1/responses through the verifying client", () => {
  it.each([false, true])("untampered, plain and sealed (stream: %s): the answer is read", async (stream) => {
    env.proxy.tamper = {};
    for (const e2e of [false, true]) {
      const text = await ask(stream, { e2e });
      expect(text.includes("ultraviolet")).toBe(true);
      if (!stream) expect(JSON.parse(text)).toMatchObject({ object: "response", status: "completed", output: [{ content: [{ text: ANSWER }] }] });
    }
  });

  it.each([false, true])("plain, the text rewritten by the proxy (stream: %s): SIGNATURE_INVALID", async (stream) => {
    const swap = (c: Buffer) => Buffer.from(c.toString("latin1").replace("pangolin", "PWNEDxxx"), "latin1");
    env.proxy.tamper = stream ? { responseChunk: (p, _i, c) => (isResponses(p) ? swap(c) : undefined) } : { responseBody: (p, b) => (isResponses(p) ? swap(b) : undefined) };
    expect(await clientCodeOf(ask(stream, { e2e: false }))).toBe(ClientCode.SIGNATURE_INVALID);
  });

  it.each([false, true])("plain, signature and request id stripped (stream: %s): SIGNATURE_MISSING", async (stream) => {
    env.proxy.tamper = {
      responseHeaders: (p, h) => {
        if (!isResponses(p)) return undefined;
        const out = { ...h };
        delete out[SIGNATURE_HEADER];
        delete out[REQUEST_ID_HEADER];
        delete out["trailer"];
        return out;
      },
    };
    expect(await clientCodeOf(ask(stream, { e2e: false }))).toBe(ClientCode.SIGNATURE_MISSING);
  });

  it("plain stream cut before response.completed: never read as a whole verified answer", async () => {
    // Keeps the first chunk (response.created) and drops the rest, the signature trailer included.
    env.proxy.tamper = { responseChunk: (p, i, c) => (isResponses(p) ? (i === 0 ? c : Buffer.alloc(0)) : undefined) };
    expect(await clientCodeOf(ask(true, { e2e: false }))).not.toBe("no error");
  });

  it("sealed stream whose final (signature) frame was dropped: E2E_TRUNCATED", async () => {
    env.proxy.tamper = { responseChunk: dropFinalFrames(isResponses) };
    expect(await clientCodeOf(ask(true))).toBe(ClientCode.E2E_TRUNCATED);
  });

  it.each([false, true])("sealed, one byte flipped (stream: %s): refused", async (stream) => {
    env.proxy.tamper = stream ? { responseChunk: (p, i, c) => (isResponses(p) && i === 0 ? flipByte(c, -1) : undefined) } : { responseBody: (p, b) => (isResponses(p) ? flipByte(b, -1) : undefined) };
    expect(await clientCodeOf(ask(stream))).toMatch(/^E2E_/);
  });

  it("a forged unsealed answer to a sealed request: E2E_RESPONSE_UNSEALED", async () => {
    env.proxy.tamper = { respond: (m, p) => (m === "POST" && isResponses(p) ? { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ object: "response", output: [] }) } : undefined) };
    expect(await clientCodeOf(ask(false))).toBe(ClientCode.E2E_RESPONSE_UNSEALED);
  });
});
