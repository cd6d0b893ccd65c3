import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { ClientCode } from "../../src/client/codes.js";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { ClientError } from "../../src/errors.js";
import { ANSWER, flipByte } from "./client-fixtures.js";
import { useNodeBehindProxy } from "./client-env.js";

const env = useNodeBehindProxy();

function sdk(): OpenAI {
  const baseURL = `${env.proxy.url}/v1`;
  return new OpenAI({ baseURL, apiKey: "unused", fetch: createVerifiedFetch({ baseURL, allowSimulated: true }), maxRetries: 0 });
}

const messages = [{ role: "user" as const, content: "please keep quokka-telescope between us" }];

describe("the official openai SDK through createVerifiedFetch", () => {
  it("gets a verified, end-to-end sealed chat completion", async () => {
    const r = await sdk().chat.completions.create({ model: "fake", messages });
    expect(r.choices[0]?.message.content).toBe(ANSWER);
    expect(env.proxy.wire()).not.toContain("quokka");
    expect(env.proxy.wire()).not.toContain("pangolin");
  });

  it("streams a verified, sealed chat completion chunk by chunk", async () => {
    const stream = await sdk().chat.completions.create({ model: "fake", messages, stream: true });
    const parts: string[] = [];
    for await (const chunk of stream) parts.push(chunk.choices[0]?.delta?.content ?? "");
    expect(parts.filter((p) => p.length > 0).length).toBeGreaterThan(3);
    expect(parts.join("")).toBe(ANSWER);
    expect(env.proxy.wire()).not.toContain("quokka");
    expect(env.proxy.wire()).not.toContain("pangolin");
  });

  it("surfaces a tampered answer as a non-retryable API error carrying the client's code", async () => {
    env.proxy.tamper = { responseBody: (p, b) => (p.startsWith("/v1/chat/completions") ? flipByte(b, 25) : undefined) };
    try {
      const err = await sdk().chat.completions.create({ model: "fake", messages }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect((err as { code?: unknown }).code).toBe(ClientCode.E2E_DECRYPT_FAILED);
    } finally {
      env.proxy.tamper = {};
    }
  });

  it("a tampered stream throws from the iterator with the client's code", async () => {
    env.proxy.tamper = { responseChunk: (p, i, c) => (p.startsWith("/v1/chat/completions") && i === 0 ? flipByte(c, 8) : undefined) };
    try {
      const stream = await sdk().chat.completions.create({ model: "fake", messages, stream: true });
      const err = await (async () => {
        for await (const _ of stream) {
          // drain
        }
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClientError);
      expect((err as ClientError).code).toBe(ClientCode.E2E_DECRYPT_FAILED);
    } finally {
      env.proxy.tamper = {};
    }
  });
});
