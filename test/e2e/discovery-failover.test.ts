/**
 * Client discovery against real in-process nodes (gateway + simulator TEE + E2E), listed
 * by a node source as the registry would list them: a node whose attestation is tampered
 * with, a node answering 503 with Retry-After, a dead endpoint, a listing that names the
 * wrong enclave, and nodes killed (TCP reset) before their first byte and mid-stream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePrivateKey } from "viem/accounts";
import { ClientCode } from "../../src/client/codes.js";
import { DISCOVERY_BASE_URL, type FailoverEvent } from "../../src/client/discovering-fetch.js";
import { rankByRoundTrip } from "../../src/client/node-ranking.js";
import type { NodeSource } from "../../src/client/node-source.js";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { ClientError } from "../../src/errors.js";
import type { GenerationEvent, InferenceBackend } from "../../src/inference/backend.js";
import type { WireNode } from "../../src/ledger/nodes-wire.js";
import { createSigner } from "../../src/seal/signing.js";
import { fromHex } from "../../src/util/bytes.js";
import { ANSWER, ANSWER_WORDS, fakeBackend, startRecordingProxy, startTestNode, type RecordingProxy, type TestNode } from "./client-fixtures.js";
import { startKillableProxy, type KillableProxy } from "./killable-proxy.js";

const MODEL = "fake";
const chat = (stream = false) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: MODEL, stream, messages: [{ role: "user", content: "where is the gold buried" }] }) });

interface Up {
  node: TestNode;
  enclave: string;
}

async function up(backend?: InferenceBackend): Promise<Up> {
  const ecdsa = createSigner("ecdsa", fromHex(generatePrivateKey().slice(2)));
  const node = await startTestNode({ signers: { ecdsa, ed25519: createSigner("ed25519") }, ...(backend ? { backend } : {}) });
  return { node, enclave: ecdsa.address.toLowerCase() };
}

function listing(enclave: string, endpoint: string, km: number): WireNode {
  return {
    enclave,
    operator: `0x${"11".repeat(20)}`,
    payout: `0x${"22".repeat(20)}`,
    endpoint,
    region: "test",
    location: { lat: 48.85, lon: 2.35 },
    models: [{ id: MODEL, priceVersion: 1, promptPerMillion: "1000", completionPerMillion: "2000" }],
    measurementsDigest: `0x${"33".repeat(32)}`,
    expiresAt: 4_000_000_000,
    distanceKm: km,
  };
}
const staticSource = (nodes: readonly WireNode[]): NodeSource => ({ list: async () => nodes });

/** Yields the answer one word every `gapMs`, after `onStart`. */
function slowBackend(gapMs: number, onStart: () => void = () => {}): InferenceBackend {
  const base = fakeBackend();
  async function* gen(): AsyncGenerator<GenerationEvent> {
    onStart();
    for (const w of ANSWER_WORDS) {
      yield { type: "delta", text: w };
      await new Promise((r) => setTimeout(r, gapMs));
    }
    yield { type: "done", finishReason: "stop", usage: { promptTokens: 5, completionTokens: ANSWER_WORDS.length } };
  }
  return { ...base, chat: () => gen() };
}

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
});

describe("discovery failover across listed nodes", () => {
  let tampered: Up, busy: Up, good: Up;
  let tamperProxy: RecordingProxy, busyProxy: RecordingProxy;
  let deadURL: string;
  beforeAll(async () => {
    [tampered, busy, good] = await Promise.all([up(), up(), up()]);
    closers.push(tampered.node.close, busy.node.close, good.node.close);
    tamperProxy = await startRecordingProxy(tampered.node.url);
    busyProxy = await startRecordingProxy(busy.node.url);
    closers.push(tamperProxy.close, busyProxy.close);
    // The attack: whoever answers at this endpoint swaps the signing key in the report.
    tamperProxy.tamper = {
      responseBody: (path, body) => {
        if (!path.startsWith("/v1/attestation/report")) return undefined;
        const r = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
        r["signing_address"] = `0x${"ab".repeat(20)}`;
        return Buffer.from(JSON.stringify(r));
      },
    };
    busyProxy.tamper = { respond: (m) => (m === "POST" ? { status: 503, headers: { "retry-after": "7", "content-type": "application/json" }, body: '{"error":{"message":"busy","type":"server_error","param":null,"code":"busy"}}' } : undefined) };
    const dead = await startKillableProxy(good.node.url);
    dead.kill();
    deadURL = dead.url;
  });

  it("skips the tampered, the busy and the dead node, in that order, and answers from the good one", async () => {
    let t = Date.now();
    const events: FailoverEvent[] = [];
    const f = createVerifiedFetch({
      model: MODEL,
      allowSimulated: true,
      attestation: { onWarning: () => {} },
      now: () => t,
      nodeSource: staticSource([listing(tampered.enclave, tamperProxy.url, 10), listing(busy.enclave, busyProxy.url, 20), listing(`0x${"ee".repeat(20)}`, deadURL, 30), listing(good.enclave, good.node.url, 40)]),
      discovery: { probe: 0, maxNodesPerRequest: 5, onFailover: (e) => events.push(e) },
    });
    const res = await f(`${DISCOVERY_BASE_URL}/chat/completions`, chat());
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe(ANSWER);
    expect(events.map((e) => [e.baseURL, e.reason])).toEqual([
      [`${tamperProxy.url}/v1`, "refused"],
      [`${busyProxy.url}/v1`, "saturated"],
      [`${deadURL}/v1`, "unreachable"],
    ]);
    expect([ClientCode.REPORT_SWAPPED, ClientCode.ATTESTATION_FAILED]).toContain(events[0]?.code);
    expect(events[1]?.status).toBe(503);
    expect((f as unknown as { current: { baseURL: string } }).current.baseURL).toBe(`${good.node.url}/v1`);
    // Nothing of the caller's reached the node that failed attestation.
    expect(tamperProxy.exchanges.every((e) => e.path.startsWith("/v1/attestation/report"))).toBe(true);

    // The next request goes straight to the good node: the others are cooling down.
    const seenBusy = busyProxy.exchanges.length;
    expect((await f(`${DISCOVERY_BASE_URL}/chat/completions`, chat())).status).toBe(200);
    expect(busyProxy.exchanges.length).toBe(seenBusy);

    // After its Retry-After (7 s) the busy node is asked again; the tampered one (refused) is not.
    t += 8_000;
    const seenTampered = tamperProxy.exchanges.length;
    expect((await f(`${DISCOVERY_BASE_URL}/chat/completions`, chat())).status).toBe(200);
    expect(busyProxy.exchanges.length).toBeGreaterThan(seenBusy);
    expect(tamperProxy.exchanges.length).toBe(seenTampered);
  });

  it("a dead endpoint is failed over (connection refused) and reported unreachable", async () => {
    const events: FailoverEvent[] = [];
    const f = createVerifiedFetch({
      model: MODEL,
      allowSimulated: true,
      attestation: { onWarning: () => {} },
      nodeSource: staticSource([listing(busy.enclave, deadURL, 5), listing(good.enclave, good.node.url, 40)]),
      discovery: { probe: 0, onFailover: (e) => events.push(e) },
    });
    expect((await f(`${DISCOVERY_BASE_URL}/chat/completions`, chat())).status).toBe(200);
    expect(events).toEqual([{ enclave: busy.enclave, baseURL: `${deadURL}/v1`, reason: "unreachable", code: ClientCode.ATTESTATION_UNAVAILABLE }]);
  });

  it("refuses a node that attests another key than the listed enclave, and sends it nothing", async () => {
    const watch = await startRecordingProxy(good.node.url);
    closers.push(watch.close);
    const f = createVerifiedFetch({
      model: MODEL,
      allowSimulated: true,
      onFailure: "throw",
      attestation: { onWarning: () => {} },
      nodeSource: staticSource([listing(`0x${"cd".repeat(20)}`, watch.url, 1)]),
      discovery: { probe: 0 },
    });
    const err = (await f(`${DISCOVERY_BASE_URL}/chat/completions`, chat()).catch((e: unknown) => e)) as ClientError;
    expect(err).toBeInstanceOf(ClientError);
    expect(err.code).toBe(ClientCode.NO_NODE_AVAILABLE);
    expect((err.details?.["tried"] as { code?: string }[])[0]?.code).toBe(ClientCode.ENCLAVE_MISMATCH);
    expect(watch.exchanges.every((e) => e.path.startsWith("/v1/attestation/report"))).toBe(true);
  });

  it("an empty listing, and a refused URL, are typed errors", async () => {
    const f = createVerifiedFetch({ model: MODEL, allowSimulated: true, onFailure: "throw", nodeSource: staticSource([]) });
    expect(((await f(`${DISCOVERY_BASE_URL}/chat/completions`, chat()).catch((e: unknown) => e)) as ClientError).code).toBe(ClientCode.NO_NODE_AVAILABLE);
    expect(((await f(`${good.node.url}/v1/chat/completions`, chat()).catch((e: unknown) => e)) as ClientError).code).toBe(ClientCode.ROUTE_REFUSED);
    expect(() => createVerifiedFetch({ allowSimulated: true, nodeSource: staticSource([]) })).toThrow(ClientError);
    expect(() => createVerifiedFetch({ model: MODEL, baseURL: `${good.node.url}/v1`, nodeSource: staticSource([]) })).toThrow(ClientError);
  });
});

describe("nodes killed while serving", () => {
  let first: Up, second: Up;
  let firstProxy: KillableProxy;
  let killOnStart = false;
  beforeAll(async () => {
    first = await up(slowBackend(150, () => killOnStart && firstProxy.kill()));
    second = await up();
    firstProxy = await startKillableProxy(first.node.url);
    closers.push(first.node.close, second.node.close, firstProxy.close);
  });

  it("mid-stream: the caller's stream errors, and the next request goes to the next node", async () => {
    const events: FailoverEvent[] = [];
    const f = createVerifiedFetch({
      model: MODEL,
      allowSimulated: true,
      attestation: { onWarning: () => {} },
      nodeSource: staticSource([listing(first.enclave, firstProxy.url, 1), listing(second.enclave, second.node.url, 2)]),
      discovery: { probe: 0, onFailover: (e) => events.push(e) },
    });
    const res = await f(`${DISCOVERY_BASE_URL}/chat/completions`, chat(true));
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const got = await reader.read();
    expect(got.done).toBe(false);
    firstProxy.kill();
    let broke: unknown = null;
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch (e) {
      broke = e;
    }
    expect(broke).not.toBeNull();
    expect(events.map((e) => [e.enclave, e.reason])).toEqual([[first.enclave, "stream-broken"]]);
    const next = await f(`${DISCOVERY_BASE_URL}/chat/completions`, chat(true));
    expect(await next.text()).toContain("pangolin");
    expect((f as unknown as { current: { node: WireNode } }).current.node.enclave).toBe(second.enclave);
  });

  it("before the first byte: the same request is answered by the next node", async () => {
    const restarted = await startKillableProxy(first.node.url);
    closers.push(restarted.close);
    firstProxy = restarted;
    killOnStart = true;
    const events: FailoverEvent[] = [];
    const f = createVerifiedFetch({
      model: MODEL,
      allowSimulated: true,
      attestation: { onWarning: () => {} },
      nodeSource: staticSource([listing(first.enclave, restarted.url, 1), listing(second.enclave, second.node.url, 2)]),
      discovery: { probe: 0, onFailover: (e) => events.push(e) },
    });
    const res = await f(`${DISCOVERY_BASE_URL}/chat/completions`, chat(true));
    expect(await res.text()).toContain("pangolin");
    expect(events.map((e) => e.enclave)).toEqual([first.enclave]);
    expect(events[0]?.reason).toBe("unreachable");
  });
});

describe("round-trip ranking", () => {
  it("probes the nearest, puts the faster first across buckets, the unreachable last", async () => {
    const nodes = [listing(`0x${"01".repeat(20)}`, "http://127.0.0.1:1", 1), listing(`0x${"02".repeat(20)}`, "http://127.0.0.1:2", 2), listing(`0x${"03".repeat(20)}`, "http://127.0.0.1:3", 3), listing(`0x${"04".repeat(20)}`, "http://10.0.0.4:4", 4), listing(`0x${"05".repeat(20)}`, "http://127.0.0.1:5", 5)];
    let clock = 0;
    const delays: Record<string, number> = { "1": 80, "2": 5, "3": -1 };
    const fakeFetch = (async (url: string) => {
      const port = new URL(url).port;
      const d = delays[port] ?? 0;
      if (d < 0) throw new TypeError("fetch failed");
      clock += d;
      return new Response('{"ok":true}');
    }) as unknown as typeof fetch;
    const ranked = await rankByRoundTrip(nodes, { fetch: fakeFetch, probe: 3, rttBucketMs: 25, clock: () => clock });
    // 10.0.0.4 over plain http is dropped; 5 was not probed; 3 did not answer.
    expect(ranked.map((r) => r.node.endpoint.split(":").pop())).toEqual(["2", "1", "5", "3"]);
  });
});
