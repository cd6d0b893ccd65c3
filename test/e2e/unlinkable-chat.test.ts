/**
 * Issue 13's whole story in one run: a release is published; a node runs it; a user buys
 * Privacy Pass tokens with their API key; then chats through an OHTTP relay with a token
 * and no API key; the client accepts the node only because its release is in the log,
 * gets a verified answer, and proves from the node's receipt log that it was served.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { exchangeText, fetchReceipt } from "../../src/client/receipt.js";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import type { GatewayEnv } from "../../src/gateway/context.js";
import { startServer, type RunningServer } from "../../src/gateway/server.js";
import { serveLogDir, type RunningLogServer } from "../../src/transparency/log-server.js";
import { createOhttpTransport } from "../../src/transparency/ohttp/client.js";
import { ohttpRelayHandler } from "../../src/transparency/ohttp/relay.js";
import { TokenWallet } from "../../src/transparency/tokens/wallet.js";
import { utf8 } from "../../src/util/bytes.js";
import { ANSWER, startTestNode, type TestNode } from "./client-fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "cloister-unlinkable-"));
let node: TestNode;
let relay: RunningServer;
let log: RunningLogServer;
let logKey = "";
const relayed: Buffer[] = [];

async function cli(...args: string[]): Promise<string> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t) => void (out += `${t}\n`), err: (t) => void (err += t), env: {}, cwd: dir });
  expect(code, err).toBe(0);
  return out.trim();
}

beforeAll(async () => {
  node = await startTestNode({ apiKey: true, tokens: true });
  // Publish the node's release (its measurements, as a release pipeline would compute them).
  const probe = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true });
  const m = (await probe.attest()).verification.measurements ?? {};
  await cli("log", "keygen", "--out", "log.key");
  await cli("log", "keygen", "--out", "rel.key");
  logKey = await cli("log", "init", "releases", "--origin", "test.cloister/releases", "--key", "log.key");
  const statement = await cli("log", "release", "--key", "rel.key", "--component", "node", "--name", "cloister-node", "--version", "0.2.0", "--commit", "abcdef1234567", ...Object.entries(m).flatMap(([k, v]) => ["--measurement", `${k}=${v}`]));
  writeFileSync(join(dir, "r.json"), statement);
  await cli("log", "append", "releases", "--key", "log.key", "r.json");
  log = await serveLogDir(join(dir, "releases"));
  // A relay that records what it forwards.
  const forward = ohttpRelayHandler({ gatewayUrl: node.url });
  const app = new Hono<GatewayEnv>();
  app.all("*", async (c) => {
    relayed.push(Buffer.from(await c.req.raw.clone().arrayBuffer()));
    return forward(c.req.raw);
  });
  relay = await startServer(app, { host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await relay?.close({ drainMs: 10 });
  await log?.close();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a paid, unlinkable, provable chat", () => {
  it("buys tokens, chats through a relay with a token and no API key, and proves the answer from the receipt log", async () => {
    const wallet = new TokenWallet({ baseURL: `${node.url}/v1`, apiKey: node.apiKey as string });
    await wallet.buy(2);
    expect(wallet.size).toBe(2);

    const baseURL = `${node.url}/v1`;
    const f = createVerifiedFetch({ baseURL, allowSimulated: true, relayUrl: relay.url, releaseLog: { url: log.url, key: logKey } });
    const body = JSON.stringify({ model: "fake", messages: [{ role: "user", content: "a private question about my pension" }] });
    const token = wallet.spend();
    const res = await f(`${baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: token }, body });
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const answer = JSON.parse(utf8.decode(bytes)) as { id: string; choices: { message: { content: string } }[] };
    expect(answer.choices[0]?.message.content).toBe(ANSWER);
    expect(f.pinned?.verification).toMatchObject({ release: { index: 0 } });

    // The receipt, fetched through the relay too, proves this exact exchange.
    const viaRelay = createOhttpTransport({ relayUrl: relay.url }).fetch;
    const receipt = await fetchReceipt(baseURL, answer.id, f.pinned!, exchangeText(utf8.encode(body), bytes), viaRelay);
    expect(receipt.tree_size).toBeGreaterThanOrEqual(1);
    await expect(fetchReceipt(baseURL, answer.id, f.pinned!, exchangeText(utf8.encode(body), utf8.encode("another answer")), viaRelay)).rejects.toMatchObject({ code: "SIGNATURE_INVALID" });

    // The node billed a token, not the payer's key; the relay saw no key, token, prompt or answer.
    const usage = await node.store.listUsage();
    const chat = usage.find((u) => u.requestId === answer.id);
    expect(chat?.keyId).toMatch(/^token:/);
    const wire = Buffer.concat(relayed);
    for (const s of ["sk-cloister", token.slice(20, 60), "pension", "ultraviolet"]) expect(wire.includes(s)).toBe(false);

    // The same token again is refused.
    const again = await f(`${baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: token }, body });
    expect(again.status).toBe(401);
  });
});
