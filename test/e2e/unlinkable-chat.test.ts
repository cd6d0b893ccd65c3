/**
 * Issue 13's whole story in one run: a release and the node's token issuer key are
 * published; a node runs the release; a user pays for Privacy Pass tokens through the
 * market escrow (a real anvil: spend permit, enclave-signed receipt, settlement); then
 * chats through an OHTTP relay with a token and no API key; the client accepts the node
 * only because its release is in the log, gets a verified answer, and proves from the
 * node's receipt log that it was served. Billing balances: settled = tokens × price.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliOk } from "./cli-run.js";
import { exchangeText, fetchReceipt } from "../../src/client/receipt.js";
import { RECEIPT_SALT_HEADER } from "../../src/client/response.js";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import type { GatewayEnv } from "../../src/gateway/context.js";
import { startServer, type RunningServer } from "../../src/gateway/server.js";
import { serveLogDir, type RunningLogServer } from "../../src/transparency/log-server.js";
import { createOhttpTransport } from "../../src/transparency/ohttp/client.js";
import { ohttpRelayHandler } from "../../src/transparency/ohttp/relay.js";
import { TokenWallet } from "../../src/transparency/tokens/wallet.js";
import { createTokenSale } from "../../src/transparency/tokens/escrow-sale.js";
import { issuerKeyStatement, signIssuerKey } from "../../src/transparency/issuer-statement.js";
import { generateIssuerKey } from "../../src/transparency/tokens/issuer.js";
import { readKeyFile } from "../../src/transparency/keys.js";
import { createReceiptBook } from "../../src/ledger/receipt-book.js";
import { openSqliteReceiptStore, type SqliteReceiptStore } from "../../src/ledger/receipt-store-sqlite.js";
import { Escrow } from "../../src/ledger/contracts/artifacts.js";
import { balanceOf, claimable, makePermit, settle } from "../../src/ledger/test-escrow.js";
import { startTestMarket, type RegisteredNode, type TestMarket } from "../../src/ledger/test-market.js";
import { utf8 } from "../../src/util/bytes.js";
import { ANSWER, startTestNode, type TestNode } from "./client-fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "cloister-unlinkable-"));
let node: TestNode;
let relay: RunningServer;
let log: RunningLogServer;
let logKey = "";
let m: TestMarket;
let enclaveNode: RegisteredNode;
let receiptStore: SqliteReceiptStore;
const PRICE = 1_000n;
const relayed: Buffer[] = [];

const cli = (...args: string[]): Promise<string> => cliOk(args, { cwd: dir });

beforeAll(async () => {
  // The market: a real chain, this node's enclave key registered, the user's deposit.
  m = await startTestMarket();
  enclaveNode = await m.registerNode();
  await m.send(m.accounts.user, m.addresses.escrow, Escrow.abi, "depositNative", [], 1_000_000n);
  receiptStore = openSqliteReceiptStore(":memory:");
  const escrow = { chainId: m.chainId, address: m.addresses.escrow };
  const book = createReceiptBook({ enclave: enclaveNode.enclave, escrow, store: receiptStore });
  node = await startTestNode({
    apiKey: true,
    tokens: true,
    tokenSale: (key) => createTokenSale({ key, book, escrow, pricePerToken: PRICE, priceVersion: 1, chain: { balance: (u, t) => balanceOf(m, u, t) }, nowSeconds: () => BigInt(Math.floor(Date.now() / 1000)) }),
  });
  // Publish the node's release (its measurements, as a release pipeline would compute them).
  const probe = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true });
  const measured = (await probe.attest()).verification.measurements ?? {};
  await cli("log", "keygen", "--out", "log.key");
  await cli("log", "keygen", "--out", "rel.key");
  logKey = await cli("log", "init", "releases", "--origin", "test.cloister/releases", "--key", "log.key");
  const statement = await cli("log", "release", "--key", "rel.key", "--component", "node", "--name", "cloister-node", "--version", "0.2.0", "--commit", "abcdef1234567", ...Object.entries(measured).flatMap(([k, v]) => ["--measurement", `${k}=${v}`]));
  writeFileSync(join(dir, "r.json"), statement);
  // The node's issuer key, published for this epoch (the wallet refuses any other).
  writeFileSync(join(dir, "k.json"), await cli("log", "token-key", "--key", "rel.key", "--from", node.url, "--epoch", "2026-12"));
  await cli("log", "append", "releases", "--key", "log.key", "r.json", "k.json");
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
  receiptStore?.close();
  await m?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a paid, unlinkable, provable chat", () => {
  it("buys tokens through the escrow, chats through a relay with a token and no API key, and proves the answer from the receipt log", async () => {
    const escrow = { chainId: m.chainId, address: m.addresses.escrow };
    const wallet = new TokenWallet({ baseURL: `${node.url}/v1`, releaseLog: { url: log.url, key: logKey } });
    const permit = await makePermit(m, m.accounts.user, { node: enclaveNode.enclave.address, maxAmount: 10n * PRICE });
    const userBefore = await balanceOf(m, m.accounts.user.address);
    const paidBefore = (await claimable(m, enclaveNode.registration.payout)) + (await claimable(m, m.accounts.treasury.address));
    await wallet.buyWithPermit(2, permit, escrow);
    const last = await wallet.buyWithPermit(3, permit, escrow);
    expect(wallet.size).toBe(5);
    expect(last.receipt).toMatchObject({ seq: 2n, cumulative: 5n * PRICE, promptTokens: 3n });
    // Settle what the enclave stored, as a node's settler would: billing balances.
    for (const s of await receiptStore.latest()) await settle(m, m.accounts.relayer, s.permit, s.receipt);
    const paidAfter = (await claimable(m, enclaveNode.registration.payout)) + (await claimable(m, m.accounts.treasury.address));
    expect(userBefore - (await balanceOf(m, m.accounts.user.address))).toBe(5n * PRICE);
    expect(paidAfter - paidBefore).toBe(5n * PRICE);

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
    // A sealed exchange's salt came in its sealed trailer: the log serves its proof without one.
    const salt = res.headers.get(RECEIPT_SALT_HEADER) ?? undefined;
    const receipt = await fetchReceipt(baseURL, answer.id, f.pinned!, exchangeText(utf8.encode(body), bytes), viaRelay, undefined, salt);
    expect(receipt.tree_size).toBeGreaterThanOrEqual(1);
    expect(receipt.salt).toBeNull();
    await expect(fetchReceipt(baseURL, answer.id, f.pinned!, exchangeText(utf8.encode(body), utf8.encode("another answer")), viaRelay, undefined, salt)).rejects.toMatchObject({ code: "SIGNATURE_INVALID" });

    // The node billed a token, not the payer's key; the relay saw no key, token, prompt or answer.
    const usage = await node.store.listUsage();
    const chat = usage.find((u) => u.requestId === answer.id);
    expect(chat?.keyId).toMatch(/^token:/);
    const wire = Buffer.concat(relayed);
    for (const s of ["sk-cloister", token.slice(20, 60), "pension", "ultraviolet"]) expect(wire.includes(s)).toBe(false);

    // The same token again is refused.
    expect(wallet.size).toBe(4);
    const again = await f(`${baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: token }, body });
    expect(again.status).toBe(401);
  });

  it("refuses to pay with a permit its user did not sign, or past its cap; nothing is issued", async () => {
    const escrow = { chainId: m.chainId, address: m.addresses.escrow };
    const wallet = new TokenWallet({ baseURL: `${node.url}/v1`, releaseLog: { url: log.url, key: logKey } });
    const honest = await makePermit(m, m.accounts.user, { node: enclaveNode.enclave.address, maxAmount: 2n * PRICE });
    const forged = { ...honest, signature: (await makePermit(m, m.accounts.user2, { ...honest.permit, node: enclaveNode.enclave.address })).signature };
    await expect(wallet.buyWithPermit(1, forged, escrow)).rejects.toThrow(/HTTP 400/);
    await expect(wallet.buyWithPermit(3, honest, escrow)).rejects.toThrow(/HTTP 402, permit_exhausted/);
    expect(wallet.size).toBe(0);
  });

  it("a wallet refuses an issuer key the release log does not publish, and a log with too many keys for one epoch", async () => {
    const other = await startTestNode({ tokens: true, apiKey: true });
    try {
      const wallet = new TokenWallet({ baseURL: `${other.url}/v1`, apiKey: other.apiKey as string, releaseLog: { url: log.url, key: logKey } });
      await expect(wallet.buy(1)).rejects.toMatchObject({ code: "TOKEN_ISSUER_UNPUBLISHED" });
      expect(wallet.size).toBe(0);
      // Five keys for one epoch (the node's among them): enough to sort users into groups.
      const seed = readKeyFile(join(dir, "rel.key"));
      const files: string[] = [];
      for (let i = 0; i < 4; i++) {
        const k = await generateIssuerKey();
        writeFileSync(join(dir, `extra${i}.json`), JSON.stringify(signIssuerKey(issuerKeyStatement({ issuer: "cloister", spki: k.spki, epoch: "2026-12" }), seed)));
        files.push(`extra${i}.json`);
      }
      await cli("log", "append", "releases", "--key", "log.key", ...files);
      const crowded = new TokenWallet({ baseURL: `${node.url}/v1`, apiKey: node.apiKey as string, releaseLog: { url: log.url, key: logKey } });
      await expect(crowded.buy(1)).rejects.toMatchObject({ code: "TOKEN_ISSUER_KEYS_TOO_MANY" });
    } finally {
      await other.close();
    }
  });
});
