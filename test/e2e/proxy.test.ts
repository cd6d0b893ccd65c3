import { sha256 } from "@noble/hashes/sha2.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ClientCode } from "../../src/client/codes.js";
import { createVerifiedFetch, type VerifiedFetch } from "../../src/client/verified-fetch.js";
import { toHex, utf8 } from "../../src/util/bytes.js";
import { clientCodeOf, flipByte, startRecordingProxy, startTestNode, type RecordingProxy, type TestNode } from "./client-fixtures.js";

const PROMPT = "the launch password is marmalade-ocelot";
const body = (stream: boolean) => JSON.stringify({ model: "fake", stream, messages: [{ role: "user", content: PROMPT }] });

let node: TestNode;
let other: TestNode;
let proxy: RecordingProxy;

beforeAll(async () => {
  [node, other] = await Promise.all([startTestNode(), startTestNode()]);
  proxy = await startRecordingProxy(node.url);
});
afterEach(() => {
  proxy.tamper = {};
});
afterAll(async () => {
  await proxy?.close();
  await Promise.all([node?.close(), other?.close()]);
});

function client(over: { e2e?: boolean } = {}): VerifiedFetch {
  return createVerifiedFetch({ baseURL: `${proxy.url}/v1`, allowSimulated: true, onFailure: "throw", ...over });
}

async function chat(f: VerifiedFetch, stream: boolean): Promise<string> {
  const res = await f(`${proxy.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: body(stream) });
  return res.text();
}


const isReport = (path: string) => path.startsWith("/v1/attestation/report");
const isChat = (path: string) => path.startsWith("/v1/chat/completions");

describe("a man in the middle sees only ciphertext", () => {
  it("never sees the prompt, the answer or the signed hashes, streamed or not", async () => {
    const f = client();
    expect(await chat(f, false)).toContain("pangolin");
    expect(await chat(f, true)).toContain("pangolin");
    const wire = proxy.wire();
    for (const secret of ["marmalade", "ocelot", "pangolin", "ultraviolet", toHex(sha256(utf8.encode(body(false)))), toHex(sha256(utf8.encode(body(true))))]) {
      expect(wire).not.toContain(secret);
    }
  });
});

describe("the client refuses tampering with the matching code", () => {
  it("a flipped byte in a sealed response body: E2E_DECRYPT_FAILED", async () => {
    proxy.tamper = { responseBody: (p, b) => (isChat(p) ? flipByte(b, 20) : undefined) };
    expect(await clientCodeOf(chat(client(), false))).toBe(ClientCode.E2E_DECRYPT_FAILED);
  });

  it("a flipped byte in a sealed stream event: E2E_DECRYPT_FAILED", async () => {
    proxy.tamper = { responseChunk: (p, i, c) => (isChat(p) && i === 0 ? flipByte(c, 8) : undefined) };
    expect(await clientCodeOf(chat(client(), true))).toBe(ClientCode.E2E_DECRYPT_FAILED);
  });

  it("a sealed stream cut short: E2E_TRUNCATED", async () => {
    proxy.tamper = { responseBody: (p, b) => (isChat(p) ? b.subarray(0, b.length - 5) : undefined) };
    expect(await clientCodeOf(chat(client(), true))).toBe(ClientCode.E2E_TRUNCATED);
  });

  it("without E2E, a flipped byte in a response or a stream event: SIGNATURE_INVALID", async () => {
    proxy.tamper = { responseBody: (p, b) => (isChat(p) ? flipByte(b, 30) : undefined) };
    expect(await clientCodeOf(chat(client({ e2e: false }), false))).toBe(ClientCode.SIGNATURE_INVALID);
    proxy.tamper = { responseChunk: (p, i, c) => (isChat(p) && i === 0 ? flipByte(c, 10) : undefined) };
    expect(await clientCodeOf(chat(client({ e2e: false }), true))).toBe(ClientCode.SIGNATURE_INVALID);
  });

  it("a flipped byte in the attestation quote: ATTESTATION_FAILED, and the prompt is never sent", async () => {
    const before = proxy.exchanges.length;
    proxy.tamper = {
      responseBody: (p, b) => {
        if (!isReport(p)) return undefined;
        const at = b.indexOf('"intel_quote":"') + 15 + 240;
        const out = Buffer.from(b);
        out[at] = out[at] === 0x30 ? 0x31 : 0x30; // another hex digit, so the JSON still parses
        return out;
      },
    };
    expect(await clientCodeOf(chat(client(), false))).toBe(ClientCode.ATTESTATION_FAILED);
    expect(proxy.exchanges.slice(before).every((e) => isReport(e.path))).toBe(true);
  });

  it("any flipped bit anywhere in the report is refused before anything is sent", async () => {
    const sample = proxy.exchanges.find((e) => isReport(e.path))?.responseBytes[0]?.length ?? 4000;
    for (const at of [5, 60, 200, Math.floor(sample / 2), sample - 40]) {
      const before = proxy.exchanges.length;
      proxy.tamper = { responseBody: (p, b) => (isReport(p) ? flipByte(b, at) : undefined) };
      const code = await clientCodeOf(chat(client(), false));
      expect([ClientCode.ATTESTATION_FAILED, ClientCode.NONCE_MISMATCH, ClientCode.REPORT_SWAPPED]).toContain(code);
      expect(proxy.exchanges.slice(before).every((e) => isReport(e.path))).toBe(true);
    }
  });

  it("a replayed old attestation (stale nonce): NONCE_MISMATCH", async () => {
    await client().attest();
    const old = [...proxy.exchanges].reverse().find((e) => isReport(e.path))?.responseBytes;
    const stale = Buffer.concat(old ?? []);
    proxy.tamper = { responseBody: (p) => (isReport(p) ? stale : undefined) };
    expect(await clientCodeOf(chat(client(), false))).toBe(ClientCode.NONCE_MISMATCH);
  });

  it("another node's report (fresh nonce, valid): REPORT_SWAPPED with E2E, SIGNER_MISMATCH without", async () => {
    proxy.tamper = { route: (p) => (isReport(p) ? other.url : undefined) };
    expect(await clientCodeOf(chat(client(), false))).toBe(ClientCode.REPORT_SWAPPED);
    const plain = client({ e2e: false });
    expect(await clientCodeOf(chat(plain, false))).toBe(ClientCode.SIGNER_MISMATCH);
    // The pin is dropped so the next call attests afresh instead of failing forever.
    expect(plain.pinned).toBeNull();
  });

  it("a report whose keys were replaced with the attacker's: REPORT_SWAPPED", async () => {
    const attackerKey = "11".repeat(32);
    proxy.tamper = {
      responseBody: (p, b) => {
        if (!isReport(p)) return undefined;
        const r = JSON.parse(b.toString("utf8")) as Record<string, unknown>;
        return Buffer.from(JSON.stringify({ ...r, e2e_public_key: attackerKey }));
      },
    };
    expect(await clientCodeOf(chat(client(), false))).toBe(ClientCode.REPORT_SWAPPED);
  });
});

describe("rotation and release", () => {
  it("re-attests and retries once when the node's keys rotated (a restarted node), then verifies against the new pin", async () => {
    const f = client();
    const first = await f.attest();
    proxy.tamper = { route: () => other.url }; // every request now reaches a node with fresh keys
    expect(await chat(f, false)).toContain("pangolin");
    expect(f.pinned?.e2eKeyId).not.toBe(first.e2eKeyId);
    expect(f.pinned?.signingAddress).not.toBe(first.signingAddress);
  });

  it("verifyStreamBeforeRelease: a tampered stream is refused before the caller gets a Response", async () => {
    proxy.tamper = { responseChunk: (p, i, c) => (isChat(p) && i === 0 ? flipByte(c, 10) : undefined) };
    const f = createVerifiedFetch({ baseURL: `${proxy.url}/v1`, allowSimulated: true, e2e: false, verifyStreamBeforeRelease: true, onFailure: "throw" });
    const got = f(`${proxy.url}/v1/chat/completions`, { method: "POST", body: body(true) });
    expect(await clientCodeOf(got)).toBe(ClientCode.SIGNATURE_INVALID);
  });
});

describe("the node refuses what it must", () => {
  it("refuses a replayed sealed request and a sealed body sent to another route", async () => {
    await chat(client(), false);
    const sealed = [...proxy.exchanges].reverse().find((e) => isChat(e.path));
    expect(sealed).toBeDefined();
    const rawHeaders = /x-cloister-e2e-enc: ([A-Za-z0-9_-]+)/i.exec(proxy.wire());
    expect(rawHeaders).not.toBeNull();
    const headersOf = (): Record<string, string> => {
      const w = proxy.wire();
      const start = w.lastIndexOf("POST /v1/chat/completions");
      const block = w.slice(start, w.indexOf("\r\n\r\n", start));
      const h: Record<string, string> = {};
      for (const line of block.split("\r\n").slice(1)) {
        const i = line.indexOf(": ");
        const name = line.slice(0, i).toLowerCase();
        if (name.startsWith("x-cloister") || name === "content-type") h[name] = line.slice(i + 2);
      }
      return h;
    };
    const headers = headersOf();
    const replay = await fetch(`${node.url}/v1/chat/completions`, { method: "POST", headers, body: new Uint8Array(sealed!.requestBytes) });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe("e2e_replay");
    const moved = await fetch(`${node.url}/v1/completions`, { method: "POST", headers, body: new Uint8Array(sealed!.requestBytes) });
    expect(((await moved.json()) as { error: { code: string } }).error.code).toBe("e2e_decrypt_failed");
  });

  it("with E2E required, refuses plain requests with e2e_required and serves sealed ones", async () => {
    const strict = await startTestNode({ requireE2E: true });
    try {
      const plain = await fetch(`${strict.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: body(false) });
      expect(plain.status).toBe(400);
      expect(((await plain.json()) as { error: { code: string } }).error.code).toBe("e2e_required");
      const f = createVerifiedFetch({ baseURL: `${strict.url}/v1`, allowSimulated: true, onFailure: "throw" });
      const res = await f(`${strict.url}/v1/chat/completions`, { method: "POST", body: body(false) });
      expect(await res.text()).toContain("pangolin");
    } finally {
      await strict.close();
    }
  });
});
