/**
 * Discovery through a real registry on anvil: real nodes (gateway + simulator TEE) are
 * registered with their own signing keys; a third node runs the registry indexer and
 * serves GET /v1/nodes. The client, reading the chain directly or that node's directory,
 * refuses the nearer node (its attestation is tampered with on the way, although the
 * registry lists it) and is served by the farther one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { ClientCode } from "../../src/client/codes.js";
import { clientErrorOf } from "../../src/client/failure.js";
import { DISCOVERY_BASE_URL, type DiscoveringFetch, type FailoverEvent } from "../../src/client/discovering-fetch.js";
import { directoryNodeSource } from "../../src/client/node-source.js";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { createEvmChain } from "../../src/ledger/evm-chain.js";
import { openSqliteIndexStore } from "../../src/ledger/index-store-sqlite.js";
import { createRegistryIndexer, type RegistryIndexer } from "../../src/ledger/indexer.js";
import { NodeRegistry } from "../../src/ledger/contracts/artifacts.js";
import { wireNodeListSchema } from "../../src/ledger/nodes-wire.js";
import { createEvmRegistryFeed } from "../../src/ledger/registry-feed.js";
import { startTestMarket, type TestMarket } from "../../src/ledger/test-market.js";
import { modelId, type Hex32 } from "../../src/ledger/typed-data.js";
import { createGateway } from "../../src/gateway/app.js";
import { startServer, type RunningServer } from "../../src/gateway/server.js";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { createSigner } from "../../src/seal/signing.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { fromHex } from "../../src/util/bytes.js";
import { ANSWER, fakeBackend, startRecordingProxy, startTestNode, type RecordingProxy, type TestNode } from "./client-fixtures.js";

const MODEL = "fake";
const chat = () => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "the launch code is 0000" }] }) });

let m: TestMarket;
let near: TestNode, far: TestNode, other: TestNode;
let nearProxy: RecordingProxy;
let dirServer: RunningServer;
let ix: RegistryIndexer;
const enclaves: Record<string, string> = {};
const cleanup: (() => Promise<unknown>)[] = [];

async function nodeWithKey(): Promise<{ node: TestNode; key: Hex32 }> {
  const key = generatePrivateKey();
  const node = await startTestNode({ signers: { ecdsa: createSigner("ecdsa", fromHex(key.slice(2))), ed25519: createSigner("ed25519") } });
  return { node, key };
}

beforeAll(async () => {
  m = await startTestMarket();
  cleanup.push(() => m.stop());
  const from = await m.client.getBlockNumber({ cacheTime: 0 });
  const a = await nodeWithKey();
  const b = await nodeWithKey();
  const c = await nodeWithKey();
  near = a.node;
  far = b.node;
  other = c.node;
  cleanup.push(near.close, far.close, other.close);
  nearProxy = await startRecordingProxy(near.url);
  cleanup.push(nearProxy.close);
  // The attack: the nearer node's reports are altered on the way (its key swapped).
  nearProxy.tamper = {
    responseBody: (path, body) => {
      if (!path.startsWith("/v1/attestation/report")) return undefined;
      const r = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
      r["signing_address"] = `0x${"ab".repeat(20)}`;
      return Buffer.from(JSON.stringify(r));
    },
  };
  const price = (name: string) => ({ model: modelId(name), promptPerMTok: 1_000n, completionPerMTok: 3_000n });
  // Paris (near the client), New York (far), and one serving another model, in Berlin, that then leaves.
  await m.registerNode({ enclave: privateKeyToAccount(a.key), endpoint: nearProxy.url, latE6: 48_860_000, lonE6: 2_350_000, prices: [price(MODEL)] });
  await m.registerNode({ enclave: privateKeyToAccount(b.key), endpoint: far.url, latE6: 40_710_000, lonE6: -74_000_000, operator: m.accounts.operator2, prices: [price(MODEL)] });
  const gone = await m.registerNode({ enclave: privateKeyToAccount(c.key), endpoint: other.url, latE6: 52_520_000, lonE6: 13_400_000, prices: [price("other-model"), price(MODEL)] });
  enclaves["near"] = privateKeyToAccount(a.key).address.toLowerCase();
  enclaves["far"] = privateKeyToAccount(b.key).address.toLowerCase();
  enclaves["other"] = privateKeyToAccount(c.key).address.toLowerCase();
  await m.send(gone.operator, m.addresses.registry, NodeRegistry.abi, "leave", [gone.enclave.address]);
  await m.registerNode({ enclave: privateKeyToAccount(c.key), endpoint: other.url, latE6: 52_520_000, lonE6: 13_400_000, prices: [price("other-model")] });

  // The directory node: a gateway whose /v1/nodes is served by a real indexer of this registry.
  const feed = createEvmRegistryFeed({ rpcUrl: m.anvil.rpcUrl, registry: m.addresses.registry, policy: m.addresses.policy });
  const indexStore = openSqliteIndexStore(":memory:");
  ix = createRegistryIndexer({ feed, store: indexStore, registry: m.addresses.registry, fromBlock: from, finalityDepth: 2 });
  await ix.open();
  await ix.sync();
  const store = openSqliteStore({ path: ":memory:" });
  dirServer = await startServer(createGateway({ backend: fakeBackend(), tee: createSimulatorProvider(), store, authRequired: false, nodes: ix }), { host: "127.0.0.1", port: 0 });
  cleanup.push(() => dirServer.close({ drainMs: 50 }), () => store.close(), () => indexStore.close());
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
});

describe("GET /v1/nodes", () => {
  const get = async (q: string) => {
    const res = await fetch(`${dirServer.url}/v1/nodes${q}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("lists the active registrations for a model, nearest first, in the documented shape", async () => {
    const { status, body } = await get(`?model=${MODEL}&near=48.85,2.35`);
    expect(status).toBe(200);
    const list = wireNodeListSchema.strict().parse(body);
    expect(list.data.map((n) => n.enclave)).toEqual([enclaves["near"], enclaves["far"]]);
    const first = list.data[0]!;
    expect(Object.keys(first).sort()).toEqual(["distanceKm", "enclave", "endpoint", "expiresAt", "location", "measurementsDigest", "models", "operator", "payout", "region"]);
    expect(first.models).toEqual([{ id: MODEL, priceVersion: 1, promptPerMillion: "1000", completionPerMillion: "3000" }]);
    expect(first.endpoint).toBe(nearProxy.url);
    expect(first.location).toEqual({ lat: 48.86, lon: 2.35 });
    expect(first.distanceKm).toBeLessThan(2);
    expect(list.data[1]!.distanceKm).toBeGreaterThan(5000);
    expect(list.indexedBlock).toBe(Number(await m.client.getBlockNumber({ cacheTime: 0 })));
    expect(list.finalizedBlock).toBe(list.indexedBlock - 2);
  });

  it("filters by model, applies limit, and omits the registration that left (its new one serves only the other model)", async () => {
    const other = wireNodeListSchema.parse((await get("?model=other-model")).body);
    expect(other.data.map((n) => [n.enclave, n.distanceKm, n.models[0]?.id, n.models[0]?.priceVersion])).toEqual([[enclaves["other"], null, "other-model", 2]]);
    expect(wireNodeListSchema.parse((await get(`?model=${MODEL}&near=40.7,-74&limit=1`)).body).data.map((n) => n.enclave)).toEqual([enclaves["far"]]);
    expect(wireNodeListSchema.parse((await get("?model=nobody-serves-this")).body).data).toEqual([]);
  });

  it.each([
    ["?near=north", "near"],
    ["?near=91,0", "near"],
    ["?limit=0", "limit"],
    ["?limit=101", "limit"],
    ["?model=", "model"],
  ])("%s: 400 with an OpenAI-shaped error naming %s", async (q, param) => {
    const { status, body } = await get(q);
    expect(status).toBe(400);
    expect(body).toEqual({ error: { message: expect.any(String), type: "invalid_request_error", param, code: "invalid_params" } });
  });

  it("a node without a market answers 404", async () => {
    const res = await fetch(`${far.url}/v1/nodes?model=${MODEL}`);
    expect(res.status).toBe(404);
  });

  it("the verified fetch lets it through shape-checked; a forged body is refused", async () => {
    const f = createVerifiedFetch({ baseURL: `${dirServer.url}/v1`, allowSimulated: true });
    expect((await f(`${dirServer.url}/v1/nodes?model=${MODEL}`)).status).toBe(200);
    const proxy = await startRecordingProxy(dirServer.url);
    cleanup.push(proxy.close);
    proxy.tamper = { respond: (_m, p) => (p.startsWith("/v1/nodes") ? { status: 200, headers: { "content-type": "application/json" }, body: '{"object":"list","data":[{"endpoint":"javascript:alert(1)"}]}' } : undefined) };
    const g = createVerifiedFetch({ baseURL: `${proxy.url}/v1`, allowSimulated: true });
    expect(clientErrorOf(await g(`${proxy.url}/v1/nodes?model=${MODEL}`))?.code).toBe(ClientCode.PUBLIC_ANSWER_INVALID);
  });
});

describe("createVerifiedFetch({ chain | directory, model })", () => {
  const sources = () => [
    ["the chain", { chain: createEvmChain({ rpcUrl: m.anvil.rpcUrl, chainId: m.chainId, addresses: m.addresses }) }] as const,
    ["a node's /v1/nodes", { directory: `${dirServer.url}/v1` }] as const,
  ];

  it.each([0, 1])("refuses the listed node whose attestation does not verify and is served by the next (source %i)", async (i) => {
    const [, source] = sources()[i]!;
    const events: FailoverEvent[] = [];
    const f = createVerifiedFetch({
      ...source,
      model: MODEL,
      near: { lat: 48.85, lon: 2.35 },
      allowSimulated: true,
      attestation: { onWarning: () => {} },
      discovery: { probe: 0, onFailover: (e) => events.push(e) },
    }) as DiscoveringFetch;
    const before = nearProxy.exchanges.length;
    const res = await f(`${DISCOVERY_BASE_URL}/chat/completions`, chat());
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe(ANSWER);
    expect(events.map((e) => [e.enclave, e.reason])).toEqual([[enclaves["near"], "refused"]]);
    expect(f.current?.node.enclave).toBe(enclaves["far"]);
    expect(f.pinned?.signingAddress).toBe(enclaves["far"]);
    // The refused node was asked for its report only: nothing of the caller's reached it.
    expect(nearProxy.exchanges.slice(before).every((e) => e.path.startsWith("/v1/attestation/report"))).toBe(true);
  });

  it("with every listed node refused: NO_NODE_AVAILABLE, as a non-retryable 403 by default", async () => {
    const f = createVerifiedFetch({ directory: `${dirServer.url}/v1`, model: MODEL, allowSimulated: false, attestation: { onWarning: () => {} }, discovery: { probe: 0 } });
    const res = await f(`${DISCOVERY_BASE_URL}/chat/completions`, chat());
    expect(res.status).toBe(403);
    const err = clientErrorOf(res);
    expect(err?.code).toBe(ClientCode.NO_NODE_AVAILABLE);
    expect((err?.details?.["tried"] as unknown[]).length).toBe(2);
  });

  it("a directory that cannot be reached: DISCOVERY_UNAVAILABLE", async () => {
    const src = directoryNodeSource("http://127.0.0.1:9/v1");
    await expect(src.list({ model: MODEL, limit: 5 })).rejects.toMatchObject({ code: ClientCode.DISCOVERY_UNAVAILABLE });
  });
});
