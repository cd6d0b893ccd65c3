/**
 * The route, stream and retry attacks of issue #7 (items 1–3), run against every SDK we
 * claim works (./sdk-adapters.ts), through one real node (gateway + simulator TEE, API
 * keys on) behind one real HTTP proxy that records every byte and tampers. The proxy is
 * a reverse proxy that also exposes the node's /v1 under other prefixes (`/openai`,
 * `/v1/tenant/x/v1`, `/V1`), as a gateway in front of a node may.
 */
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClientCode } from "../../src/client/codes.js";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { dropFinalFrames, flipByte } from "./client-fixtures.js";
import { useNodeBehindProxy } from "./client-env.js";
import { codeSeen, SDKS, type SdkCall } from "./sdk-adapters.js";

const env = useNodeBehindProxy({ apiKey: true });
const PROMPT = "the safe deposit box number is wombat-417";
const SECRETS = ["wombat-417", "pangolin", "ultraviolet"];

/** The prefixes the reverse proxy maps onto the node's /v1. */
const PREFIXES: readonly string[] = ["/v1", "/openai", "/v1/tenant/x/v1", "/V1"];
const toNode = (path: string): string => path.replace(/^\/openai\//, "/v1/").replace(/^\/v1\/tenant\/x\/v1\//, "/v1/").replace(/^\/V1\//, "/v1/");

beforeAll(() => {
  env.proxy.tamper = { rewritePath: toNode };
});
let wireStart = 0;
let exchangesStart = 0;
beforeEach(() => {
  env.proxy.tamper = { rewritePath: toNode };
  wireStart = env.proxy.wire().length;
  exchangesStart = env.proxy.exchanges.length;
});

const wireSince = (): string => env.proxy.wire().slice(wireStart);
/** How many requests to `route` (node-side) reached the proxy in this test: the attempts. */
const attempts = (route: string): number => env.proxy.exchanges.slice(exchangesStart).filter((e) => e.method === "POST" && toNode(e.path.split("?")[0] ?? "").startsWith(route)).length;

function call(prefix = "/v1", over: { e2e?: boolean } = {}): SdkCall {
  const baseURL = `${env.proxy.url}${prefix}`;
  return { baseURL, apiKey: env.node.apiKey ?? "", prompt: PROMPT, fetch: createVerifiedFetch({ baseURL, allowSimulated: true, ...over }) };
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    const v = await p;
    return { resolved: v };
  } catch (e) {
    return e;
  }
}

/** A plaintext 200 a hostile proxy returns instead of asking the node. */
const FORGED_CHAT = JSON.stringify({
  id: "chatcmpl-forged",
  object: "chat.completion",
  created: 1,
  model: "fake",
  choices: [{ index: 0, message: { role: "assistant", content: "FORGED: wire the money" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});
const FORGED_RESPONSE = JSON.stringify({
  id: "resp_forged",
  object: "response",
  created_at: 1,
  status: "completed",
  model: "fake",
  output: [{ type: "message", id: "msg_forged", role: "assistant", status: "completed", content: [{ type: "output_text", text: "FORGED: wire the money", annotations: [] }] }],
  usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 },
});
const forge = (route: string, body: string) => (method: string, path: string) =>
  method === "POST" && toNode(path).startsWith(route) ? { status: 200, headers: { "content-type": "application/json" }, body } : undefined;

describe.each(SDKS)("$name through createVerifiedFetch", (sdk) => {
  describe("routes: every POST under the baseURL is sealed, wherever the base is", () => {
    it.each(PREFIXES)("base %s: the answer is sealed and verified, and the proxy sees no prompt, answer or API key", async (prefix) => {
      expect(await sdk.chat(call(prefix))).toContain("pangolin");
      const wire = wireSince();
      for (const s of [...SECRETS, "sk-cloister"]) expect(wire).not.toContain(s);
    });

    it.each(PREFIXES)("base %s: a forged plaintext answer is refused (E2E_RESPONSE_UNSEALED), in one attempt", async (prefix) => {
      env.proxy.tamper = { rewritePath: toNode, respond: forge("/v1/chat/completions", FORGED_CHAT) };
      const err = await failure(sdk.chat(call(prefix)));
      expect(codeSeen(err)).toBe(ClientCode.E2E_RESPONSE_UNSEALED);
      expect(attempts("/v1/chat/completions")).toBe(1);
      for (const s of [...SECRETS, "sk-cloister"]) expect(wireSince()).not.toContain(s);
    });

    it("POST /v1/responses is sealed too: the prompt never crosses, a forged answer is refused", async () => {
      // Whatever the node answers (it may not serve the route), nothing readable crosses.
      await failure(sdk.responses(call()));
      for (const s of [PROMPT, "wombat", "sk-cloister"]) expect(wireSince()).not.toContain(s);
      env.proxy.tamper = { rewritePath: toNode, respond: forge("/v1/responses", FORGED_RESPONSE) };
      exchangesStart = env.proxy.exchanges.length;
      const err = await failure(sdk.responses(call()));
      expect(codeSeen(err)).toBe(ClientCode.E2E_RESPONSE_UNSEALED);
      expect(attempts("/v1/responses")).toBe(1);
    });
  });

  describe("streams are verified before the caller sees the end", () => {
    it("E2E off: a token the proxy rewrote is an error, not a clean end (SIGNATURE_INVALID)", async () => {
      env.proxy.tamper = {
        rewritePath: toNode,
        responseChunk: (path, _i, chunk) => (toNode(path).startsWith("/v1/chat/completions") ? Buffer.from(chunk.toString("latin1").replace("pangolin", "PWNEDxxx"), "latin1") : undefined),
      };
      const err = await failure(sdk.stream(call("/v1", { e2e: false })));
      expect(codeSeen(err)).toBe(ClientCode.SIGNATURE_INVALID);
      expect(attempts("/v1/chat/completions")).toBe(1);
    });

    it("E2E on: a stream whose final (signature) frame was removed is an error (E2E_TRUNCATED)", async () => {
      env.proxy.tamper = { rewritePath: toNode, responseChunk: dropFinalFrames((p) => toNode(p).startsWith("/v1/chat/completions")) };
      const err = await failure(sdk.stream(call()));
      expect(codeSeen(err)).toBe(ClientCode.E2E_TRUNCATED);
      expect(attempts("/v1/chat/completions")).toBe(1);
    });

    it("an untouched stream still arrives whole", async () => {
      expect(await sdk.stream(call())).toContain("ultraviolet-pangolin");
    });
  });

  describe("a verification failure is final: the caller sees our code after exactly one attempt", () => {
    it("a sealed answer with a flipped byte: E2E_DECRYPT_FAILED, not a retried connection error", async () => {
      env.proxy.tamper = { rewritePath: toNode, responseBody: (p, b) => (toNode(p).startsWith("/v1/chat/completions") ? flipByte(b, 25) : undefined) };
      const err = await failure(sdk.chat(call()));
      expect(codeSeen(err)).toBe(ClientCode.E2E_DECRYPT_FAILED);
      expect(attempts("/v1/chat/completions")).toBe(1);
    });

    it("E2E off, a rewritten answer: SIGNATURE_INVALID after one attempt", async () => {
      env.proxy.tamper = { rewritePath: toNode, responseBody: (p, b) => (toNode(p).startsWith("/v1/chat/completions") ? Buffer.from(b.toString("latin1").replace("pangolin", "PWNEDxxx"), "latin1") : undefined) };
      const err = await failure(sdk.chat(call("/v1", { e2e: false })));
      expect(codeSeen(err)).toBe(ClientCode.SIGNATURE_INVALID);
      expect(attempts("/v1/chat/completions")).toBe(1);
    });
  });

  if (sdk.post) {
    const post = sdk.post.bind(sdk);
    it("a trailing slash (/chat/completions/) is sealed, never sent in plaintext", async () => {
      await failure(post(call(), "/chat/completions/"));
      expect(attempts("/v1/chat/completions/")).toBe(1);
      for (const s of [PROMPT, "wombat", "sk-cloister"]) expect(wireSince()).not.toContain(s);
    });
  }
});
