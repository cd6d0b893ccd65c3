/**
 * `cloister up` end to end: the official openai client against a node started in-process
 * with the real llama backend on the test model, the simulated TEE and no auth.
 */
import { createHash, randomBytes } from "node:crypto";
import { request } from "node:http";
import Database from "better-sqlite3";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkReportData } from "../../src/attest/binding.js";
import type { AttestationReport } from "../../src/attest/report/format.js";
import { verifyAttestationReport } from "../../src/attest/verify.js";
import { createCloisterClient } from "../../src/client/index.js";
import { storePath } from "../../src/store/sqlite.js";
import { parseNonce } from "../../src/types.js";
import { fromHex } from "../../src/util/bytes.js";
import { sharedPath } from "../../src/util/shared.js";
import { testModelPath } from "../fixtures/tiny-gguf.js";
import { startNode, type RunningNode } from "./node-harness.js";
import { recoverWithElliptic, verifyWithElliptic } from "./node-verify.js";

const stories = sharedPath("models", "stories260K.gguf");
const flip = (b: Buffer, i: number): void => void (b[i] = (b[i] ?? 0) ^ 1);
const sha256hex = (b: Uint8Array | string): string => createHash("sha256").update(b).digest("hex");

let node: RunningNode;
let client: OpenAI;
let model: string;

beforeAll(async () => {
  node = await startNode(["--model", await testModelPath(), "--no-auth", "--tee", "simulated"]);
  client = new OpenAI({ baseURL: `${node.url}/v1`, apiKey: "unused", maxRetries: 0 });
  model = (await client.models.list()).data[0]?.id ?? "";
});
afterAll(async () => {
  expect(await node.stop()).toBe(0);
});

describe("cloister up serves the official openai client", () => {
  it("announces itself, the simulated TEE in capitals, and the missing auth", () => {
    const out = node.out.join("\n");
    expect(out).toMatch(/serving .* at http:\/\/127\.0\.0\.1:\d+\/v1/);
    expect(out).toContain("SIMULATED TEE: no hardware protection — for development only");
    expect(out).toContain("WARNING: --no-auth");
  });

  it("lists the model", () => {
    expect(model.length).toBeGreaterThan(0);
  });

  it("answers a chat completion, streamed and not", async () => {
    const messages = [{ role: "system" as const, content: "You tell stories." }, { role: "user" as const, content: "Tell me a story." }];
    const plain = await client.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0 });
    expect(plain.id).toMatch(/^chatcmpl-/);
    expect(plain.choices[0]?.message.role).toBe("assistant");
    expect(typeof plain.choices[0]?.message.content).toBe("string");
    expect(plain.usage?.completion_tokens).toBeGreaterThan(0);

    const stream = await client.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    let id = "";
    for await (const chunk of stream) {
      id ||= chunk.id;
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(id).toMatch(/^chatcmpl-/);
    // Same prompt at temperature 0: the stream says what the plain answer said.
    expect(text).toBe(plain.choices[0]?.message.content);
    expect(usage?.completion_tokens).toBe(plain.usage?.completion_tokens);
  });

  it("opens a request sealed to the report's E2E key (E2E is always mounted, required only with --require-e2ee)", async () => {
    const sealed = createCloisterClient({ baseURL: `${node.url}/v1`, allowSimulated: true });
    const messages = [{ role: "user" as const, content: "Tell me a story." }];
    const r = await sealed.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0 });
    const plain = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0 });
    expect(r.choices[0]?.message.content).toBe(plain.choices[0]?.message.content);
  });

  it("meters a stream the client abandons by the tokens generated so far", async () => {
    const ac = new AbortController();
    const res = await fetch(`${node.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, prompt: "Once upon a time", max_tokens: 200, temperature: 0, stream: true }),
      signal: ac.signal,
    });
    const id = res.headers.get("x-cloister-request-id") ?? "";
    const reader = res.body!.getReader();
    let events = 0;
    while (events < 3) events += (new TextDecoder().decode((await reader.read()).value).match(/^data: /gm) ?? []).length;
    ac.abort();
    await reader.cancel().catch(() => undefined);
    // Read-only: opening the store for writing would mark the node's in-flight rows interrupted.
    const db = new Database(storePath(node.dataDir), { readonly: true });
    try {
      let row: { status: string; prompt_tokens: number; completion_tokens: number } | undefined;
      for (let i = 0; i < 200; i++) {
        row = db.prepare("SELECT status, prompt_tokens, completion_tokens FROM usage WHERE request_id = ?").get(id) as typeof row;
        if (row && row.status !== "in_flight") break;
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(row?.status).toBe("cancelled");
      expect(row?.prompt_tokens).toBeGreaterThan(0);
      expect(row?.completion_tokens).toBeGreaterThanOrEqual(3);
      expect(row?.completion_tokens).toBeLessThan(200);
    } finally {
      db.close();
    }
  });

  it("answers text completions, streamed and not", async () => {
    const plain = await client.completions.create({ model, prompt: "Once upon a time", max_tokens: 16, temperature: 0 });
    expect(plain.id).toMatch(/^cmpl-/);
    const stream = await client.completions.create({ model, prompt: "Once upon a time", max_tokens: 16, temperature: 0, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe(plain.choices[0]?.text);
    expect(text.length).toBeGreaterThan(0);
  });

  it.skipIf(!stories)(`continues "Once upon a time" with the story of Lily at temperature 0${stories ? "" : " (skipped: ../shared missing)"}`, async () => {
    const prompt = "Once upon a time";
    const r = await client.completions.create({ model, prompt, max_tokens: 24, temperature: 0 });
    // /v1/completions returns the continuation; prompt + continuation is the story.
    expect(`${prompt}${r.choices[0]?.text ?? ""}`.startsWith("Once upon a time, there was a little girl named Lily")).toBe(true);
  });

  it("embeds text through the SDK (base64 by default) and as floats", async () => {
    const r = await client.embeddings.create({ model, input: ["Once upon a time", "a little girl"] });
    expect(r.data).toHaveLength(2);
    expect(r.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(r.data[0]?.embedding.every((x) => Number.isFinite(x))).toBe(true);
    const floats = await (await fetch(`${node.url}/v1/embeddings`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, input: "Once upon a time", encoding_format: "float" }) })).json();
    expect(floats.data[0].embedding.length).toBe(r.data[0]?.embedding.length);
  });

  it("raises the SDK's typed errors with OpenAI-shaped bodies", async () => {
    const messages = [{ role: "user" as const, content: "hi" }];
    await expect(client.chat.completions.create({ model, messages, n: 2 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(client.chat.completions.create({ model: "no-such-model", messages })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const bad = await fetch(`${node.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ code: "invalid_json", type: "invalid_request_error", param: null });
    const big = await fetch(`${node.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, messages: [{ role: "user", content: "x".repeat(5 * 1024 * 1024) }] }) });
    expect(big.status).toBe(413);
    // The node still serves after all of that.
    expect((await client.chat.completions.create({ model, messages, max_tokens: 2 })).choices).toHaveLength(1);
  });
});

describe("attestation report and response signatures", () => {
  it("binds the signing key, E2E key and nonce, and the attest verifier accepts it as simulated", async () => {
    const nonce = randomBytes(32).toString("hex");
    const report = (await (await fetch(`${node.url}/v1/attestation/report?nonce=${nonce}&signing_algo=ecdsa`)).json()) as AttestationReport;
    expect(report.tee).toBe("simulated");
    expect(report.simulated).toBe(true);
    expect(report.info.app_name).toBe("cloister");
    const models = report.info.app_manifest["models"] as Array<{ id: string; sha256: string }>;
    expect(models[0]?.id).toBe(model);
    expect(models[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const keys = { signer: fromHex(report.signing_address), e2ePublicKey: fromHex(report.e2e_public_key), tlsSpki: null, gpuPayload: report.nvidia_payload };
    expect(checkReportData(fromHex(report.report_data), keys, fromHex(nonce))).toBeNull();
    expect(checkReportData(fromHex(report.report_data), keys, randomBytes(32))).toBe("NONCE_MISMATCH");
    const v = await verifyAttestationReport(report, { nonce: parseNonce(nonce), allowSimulated: true });
    expect(v.errors).toEqual([]);
    expect(v.signingAddress).toBe(report.signing_address);
  });

  it("signs a non-streamed completion so that an independent secp256k1 implementation recovers the report's address, and any change breaks it", async () => {
    const report = (await (await fetch(`${node.url}/v1/attestation/report?nonce=${"00".repeat(32)}`)).json()) as AttestationReport;
    const body = JSON.stringify({ model, messages: [{ role: "user", content: "hello" }], max_tokens: 6, temperature: 0 });
    const res = await fetch(`${node.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const id = JSON.parse(Buffer.from(bytes).toString()).id as string;
    const header = JSON.parse(res.headers.get("x-cloister-signature") ?? "null");
    const stored = await (await fetch(`${node.url}/v1/signature/${id}`)).json();
    expect(stored).toEqual(header);
    expect(stored.text).toBe(`${sha256hex(body)}:${sha256hex(bytes)}`);
    expect(stored.signing_algo).toBe("ecdsa");
    expect(recoverWithElliptic(stored.text, stored.signature)).toBe(report.signing_address);
    expect(verifyWithElliptic(stored.text, stored.signature, report.signing_public_key)).toBe(true);

    // Any changed byte: in the response (its hash changes the text), in the text, in the signature.
    const tampered = Buffer.from(bytes);
    flip(tampered, tampered.length - 2);
    const tamperedText = `${sha256hex(body)}:${sha256hex(tampered)}`;
    expect(tamperedText).not.toBe(stored.text);
    expect(verifyWithElliptic(tamperedText, stored.signature, report.signing_public_key)).toBe(false);
    expect(recoverWithElliptic(tamperedText, stored.signature)).not.toBe(report.signing_address);
    const sig = Buffer.from(stored.signature.replace(/^0x/, ""), "hex");
    flip(sig, 10);
    expect(verifyWithElliptic(stored.text, sig.toString("hex"), report.signing_public_key)).toBe(false);
  });

  it("signs the exact SSE bytes of a stream and sends the signature as an HTTP trailer", async () => {
    const report = (await (await fetch(`${node.url}/v1/attestation/report?nonce=${"11".repeat(32)}`)).json()) as AttestationReport;
    const body = JSON.stringify({ model, prompt: "Once upon a time", max_tokens: 8, temperature: 0, stream: true });
    const { bytes, trailers, headers } = await new Promise<{ bytes: Buffer; trailers: NodeJS.Dict<string>; headers: NodeJS.Dict<string | string[]> }>((resolve, reject) => {
      const u = new URL(`${node.url}/v1/completions`);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () => resolve({ bytes: Buffer.concat(parts), trailers: res.trailers, headers: res.headers }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
    expect(headers["trailer"]).toMatch(/x-cloister-signature/i);
    expect(bytes.toString().endsWith("data: [DONE]\n\n")).toBe(true);
    const trailer = JSON.parse(trailers["x-cloister-signature"] ?? "null");
    const id = headers["x-cloister-request-id"] as string;
    expect(id).toMatch(/^cmpl-/);
    const stored = await (await fetch(`${node.url}/v1/signature/${id}`)).json();
    expect(trailer).toEqual(stored);
    expect(stored.text).toBe(`${sha256hex(body)}:${sha256hex(bytes)}`);
    expect(recoverWithElliptic(stored.text, stored.signature)).toBe(report.signing_address);
    expect(recoverWithElliptic(`${sha256hex(body)}:${sha256hex(bytes.subarray(1))}`, stored.signature)).not.toBe(report.signing_address);
  });

  it("signs with ed25519 when asked, under the ed25519 report's key", async () => {
    const report = (await (await fetch(`${node.url}/v1/attestation/report?nonce=${"22".repeat(32)}&signing_algo=ed25519`)).json()) as AttestationReport;
    const res = await fetch(`${node.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-cloister-signing-algo": "ed25519" },
      body: JSON.stringify({ model, prompt: "Hi", max_tokens: 2 }),
    });
    const id = res.headers.get("x-cloister-request-id");
    await res.arrayBuffer();
    const sig = await (await fetch(`${node.url}/v1/signature/${id}?signing_algo=ed25519`)).json();
    expect(sig.signing_address).toBe(report.signing_address);
    const { createPublicKey, verify } = await import("node:crypto");
    const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(report.signing_public_key, "hex")]);
    expect(verify(null, Buffer.from(sig.text), createPublicKey({ key: spki, format: "der", type: "spki" }), Buffer.from(sig.signature, "hex"))).toBe(true);
  });

  it("serves Prometheus metrics with counts and no content", async () => {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    expect(text).toMatch(/cloister_requests_total\{route="\/v1\/chat\/completions",status="200"\} \d+/);
    expect(text).toMatch(/cloister_tokens_total\{model="[^"]+",type="completion"\} \d+/);
    expect(text).not.toContain("Once upon");
  });
});
