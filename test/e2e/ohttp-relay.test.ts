/**
 * Unlinkability through a relay, performed for real: a client on 127.0.0.2 talks to a
 * node only through `cloister relay`'s handler, with a recording TCP proxy in front of
 * the relay (what the relay operator sees) and another in front of the node (what the
 * node sees). The relay sees the client's address and neither prompt nor answer; the
 * node sees the content (sealed to it) and never the client's address.
 */
import { request as httpRequest } from "node:http";
import { createServer, connect, type Server, type AddressInfo } from "node:net";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import type { GatewayEnv } from "../../src/gateway/context.js";
import { startServer, type RunningServer } from "../../src/gateway/server.js";
import { ohttpRelayHandler } from "../../src/transparency/ohttp/relay.js";
import { ANSWER, startTestNode, type TestNode } from "./client-fixtures.js";

interface Tap {
  readonly url: string;
  readonly bytes: Buffer[];
  readonly peers: Set<string>;
  close(): Promise<void>;
}

/** A TCP proxy that records every byte and every peer address. */
async function tcpTap(targetUrl: string): Promise<Tap> {
  const target = new URL(targetUrl);
  const bytes: Buffer[] = [];
  const peers = new Set<string>();
  const server: Server = createServer((down) => {
    peers.add(down.remoteAddress ?? "?");
    const up = connect(Number(target.port), target.hostname);
    down.on("data", (d: Buffer) => bytes.push(Buffer.from(d)));
    up.on("data", (d: Buffer) => bytes.push(Buffer.from(d)));
    down.pipe(up).pipe(down);
    down.on("error", () => up.destroy());
    up.on("error", () => down.destroy());
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, bytes, peers, close: () => new Promise((ok) => server.close(() => ok())) };
}

/** fetch from a chosen local address (127.0.0.2), so addresses can be told apart on loopback. */
function fetchFrom(localAddress: string): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const body = Buffer.from(await req.arrayBuffer());
    const url = new URL(req.url);
    return new Promise<Response>((resolve, reject) => {
      const r = httpRequest({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: req.method, localAddress, headers: Object.fromEntries(req.headers) }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: res.headers as Record<string, string> })));
      });
      r.on("error", reject);
      r.end(body.length ? body : undefined);
    });
  }) as typeof fetch;
}

let node: TestNode;
let nodeTap: Tap;
let relay: RunningServer;
let relayTap: Tap;

beforeAll(async () => {
  node = await startTestNode();
  nodeTap = await tcpTap(node.url);
  const app = new Hono<GatewayEnv>();
  const handler = ohttpRelayHandler({ gatewayUrl: nodeTap.url });
  app.all("*", (c) => handler(c.req.raw));
  relay = await startServer(app, { host: "127.0.0.1", port: 0 });
  relayTap = await tcpTap(relay.url);
});

afterAll(async () => {
  await relayTap?.close();
  await relay?.close({ drainMs: 10 });
  await nodeTap?.close();
  await node?.close();
});

describe("a verified chat through an OHTTP relay", () => {
  it("answers verified, the relay sees neither prompt nor answer, the node never sees the client's address", async () => {
    const prompt = "my diagnosis is borderline-ostrich-syndrome";
    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, relayUrl: relayTap.url, fetch: fetchFrom("127.0.0.2") });
    const res = await f(`${node.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "fake", messages: [{ role: "user", content: prompt }] }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe(ANSWER);

    expect(relayTap.peers).toEqual(new Set(["127.0.0.2"]));
    const relaySaw = Buffer.concat(relayTap.bytes);
    expect(relaySaw.length).toBeGreaterThan(0);
    for (const secret of [prompt, "ostrich", "ultraviolet", "pangolin"]) expect(relaySaw.includes(secret)).toBe(false);

    expect(nodeTap.peers.has("127.0.0.2")).toBe(false);
    expect([...nodeTap.peers]).toEqual(["127.0.0.1"]);
    expect(Buffer.concat(nodeTap.bytes).includes("127.0.0.2")).toBe(false);
  });

  it("refuses a gateway key that is not the node's attested one (a key per user would single the user out)", async () => {
    // The attack: someone runs a gateway with its own key in front of the real node and
    // has the relay hand that key to one user; it can open their requests and pass them on.
    const { x25519 } = await import("@noble/curves/ed25519.js");
    const { nodeKeyConfig } = await import("../../src/transparency/ohttp/key-config.js");
    const { ohttpGatewayHandler, ohttpKeysHandler } = await import("../../src/transparency/ohttp/gateway.js");
    const privateKey = x25519.utils.randomSecretKey();
    const keys = [{ config: nodeKeyConfig(x25519.getPublicKey(privateKey), 7), privateKey }];
    const rogue = new Hono<GatewayEnv>();
    const open = ohttpGatewayHandler({ keys, dispatch: (r) => fetch(new URL(new URL(r.url).pathname + new URL(r.url).search, node.url), r) });
    rogue.get("/ohttp-keys", ohttpKeysHandler(keys));
    rogue.post("/ohttp", (c) => open(c.req.raw));
    const rogueGateway = await startServer(rogue, { host: "127.0.0.1", port: 0 });
    const liarRelay = new Hono<GatewayEnv>();
    const forward = ohttpRelayHandler({ gatewayUrl: rogueGateway.url });
    liarRelay.all("*", (c) => forward(c.req.raw));
    const s = await startServer(liarRelay, { host: "127.0.0.1", port: 0 });
    try {
      const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, relayUrl: s.url });
      await expect(f.attest()).rejects.toMatchObject({ details: { attestCodes: ["OHTTP_KEY_NOT_ATTESTED"] } });
    } finally {
      await s.close({ drainMs: 10 });
      await rogueGateway.close({ drainMs: 10 });
    }
  });
});
