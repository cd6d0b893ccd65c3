import { recoverTypedDataAddress } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterEach, describe, expect, it } from "vitest";
import { createSimulatorProvider } from "../attest/simulator/provider.js";
import { createVerifiedFetch } from "../client/verified-fetch.js";
import { createGateway, freshE2EKeys } from "../gateway/app.js";
import { startServer, type RunningServer } from "../gateway/server.js";
import type { GenerationEvent, InferenceBackend } from "../inference/backend.js";
import type { SignedPermit, SignedReceipt } from "../ledger/chain.js";
import type { ReceiptStore } from "../ledger/receipt-book.js";
import { openSqliteReceiptStore, type SqliteReceiptStore } from "../ledger/receipt-store-sqlite.js";
import { permitId, signPermit } from "../ledger/sign.js";
import { domain, modelId, RECEIPT_TYPES, requestCost, ZERO_ADDRESS, ZERO_HASH, type EvmAddress, type Price, type SpendPermit } from "../ledger/typed-data.js";
import { openSqliteStore } from "../store/sqlite.js";
import { createNodePayments } from "./payments.js";
import { encodePermitHeader, MARKET_RECEIPT_HEADER, PERMIT_HEADER, receiptFromWire } from "./wire.js";

const ESCROW = { chainId: 31337, address: "0x5fbdb2315678afecb367f032d93f642f64180aa3" as EvmAddress };
const PRICE: Price = { model: modelId("fake"), promptPerMTok: 3_000_000n, completionPerMTok: 7_000_000n };
const enclave = privateKeyToAccount(generatePrivateKey());
const user = privateKeyToAccount(generatePrivateKey());

/** `n` deltas carrying running usage (as llama does), then done; prompt of 5 tokens. */
function countingBackend(n: number): InferenceBackend {
  async function* gen(): AsyncGenerator<GenerationEvent> {
    for (let i = 1; i <= n; i++) yield { type: "delta", text: ` w${i}`, usage: { promptTokens: 5, completionTokens: i } };
    yield { type: "done", finishReason: "stop", usage: { promptTokens: 5, completionTokens: n } };
  }
  return { kind: "llama", listModels: async () => [{ id: "fake", ownedBy: "t", created: 1 }], chat: () => gen(), complete: () => gen(), close: async () => {} };
}

async function permit(over: Partial<SpendPermit> = {}, signer = user): Promise<SignedPermit> {
  const p: SpendPermit = { user: user.address.toLowerCase() as EvmAddress, node: enclave.address.toLowerCase() as EvmAddress, policy: ZERO_HASH, token: ZERO_ADDRESS, maxAmount: 10n ** 18n, expiry: BigInt(Math.floor(Date.now() / 1000) + 3600), nonce: 1n, ...over };
  return { permit: p, signature: await signPermit(signer, ESCROW, p), id: permitId(ESCROW, p) };
}

interface Node {
  url: string;
  app: ReturnType<typeof createGateway>;
  receipts: SqliteReceiptStore;
  close(): Promise<void>;
}
const open: Node[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((n) => n.close()));
});

async function startPaidNode(o: { tokens?: number; every?: number; store?: (s: SqliteReceiptStore) => ReceiptStore } = {}): Promise<Node> {
  const receipts = openSqliteReceiptStore(":memory:");
  const store = openSqliteStore({ path: ":memory:" });
  const market = createNodePayments({
    enclave,
    escrow: ESCROW,
    store: o.store ? o.store(receipts) : receipts,
    pricing: () => ({ version: 1, byModel: new Map([["fake", PRICE]]) }),
    required: true,
    receiptEveryTokens: o.every ?? 4,
  });
  const app = createGateway({ backend: countingBackend(o.tokens ?? 10), tee: createSimulatorProvider(), store, authRequired: false, e2e: freshE2EKeys(false), market, limits: { reportRateLimit: { burst: 1000, perSecond: 1000 } } });
  const server: RunningServer = await startServer(app, { host: "127.0.0.1", port: 0 });
  const n: Node = {
    url: server.url,
    app,
    receipts,
    close: async () => {
      await server.close({ drainMs: 50 });
      await store.close();
      receipts.close();
    },
  };
  open.push(n);
  return n;
}

async function signerOf(r: SignedReceipt): Promise<string> {
  return (await recoverTypedDataAddress({ domain: domain("escrow", ESCROW.chainId, ESCROW.address), types: RECEIPT_TYPES, primaryType: "Receipt", message: r.receipt, signature: r.signature })).toLowerCase();
}

const body = (stream: boolean) => JSON.stringify({ model: "fake", prompt: "hi", max_tokens: 50, stream });

describe("paid requests on a market node", () => {
  it("refuses a request without a permit with an OpenAI-shaped 402", async () => {
    const n = await startPaidNode();
    const res = await fetch(`${n.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: body(false) });
    expect(res.status).toBe(402);
    const e = (await res.json()) as { error: { code: string; type: string } };
    expect(e.error).toMatchObject({ code: "payment_required", type: "payment_required" });
  });

  it("refuses a permit signed by someone else, one for another node, and an expired one", async () => {
    const n = await startPaidNode();
    const other = privateKeyToAccount(generatePrivateKey());
    const cases: [SignedPermit, string][] = [
      [await permit({}, other), "permit_bad_signature"],
      [await permit({ node: other.address.toLowerCase() as EvmAddress }), "permit_not_for_node"],
      [await permit({ expiry: 1000n }), "permit_expired"],
    ];
    for (const [p, code] of cases) {
      const res = await fetch(`${n.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json", [PERMIT_HEADER]: encodePermitHeader(p) }, body: body(false) });
      expect(res.status).toBe(402);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    expect(await n.receipts.latest()).toEqual([]);
  });

  it("a plain answer carries its enclave-signed receipt, the same one the store holds", async () => {
    const n = await startPaidNode({ tokens: 10 });
    const p = await permit();
    const res = await fetch(`${n.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json", [PERMIT_HEADER]: encodePermitHeader(p) }, body: body(false) });
    expect(res.status).toBe(200);
    const r = receiptFromWire(JSON.parse(res.headers.get(MARKET_RECEIPT_HEADER) ?? "null"));
    expect(await signerOf(r)).toBe(enclave.address.toLowerCase());
    expect(r.receipt).toMatchObject({ permitId: p.id, model: PRICE.model, priceVersion: 1, promptTokens: 5n, completionTokens: 10n, seq: 1n, cumulative: requestCost(PRICE, 5n, 10n) });
    const stored = await n.receipts.latest();
    expect(stored.map((s) => s.receipt)).toEqual([r]);
  });

  it("under E2E the permit travels sealed and the receipt comes back in the sealed trailers of a stream", async () => {
    const n = await startPaidNode({ tokens: 12, every: 4 });
    const p = await permit();
    const sent: Headers[] = [];
    const got: unknown[] = [];
    const vf = createVerifiedFetch({
      baseURL: `${n.url}/v1`,
      allowSimulated: true,
      attestation: { onWarning: () => {} },
      fetch: async (input, init) => {
        sent.push(new Headers(init?.headers));
        return fetch(input, init);
      },
      onMarketReceipt: (r) => got.push(r),
    });
    const res = await vf(`${n.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json", [PERMIT_HEADER]: encodePermitHeader(p) }, body: body(true) });
    const text = await res.text();
    expect(text).toContain("[DONE]");
    const post = sent.find((h) => h.get("x-cloister-e2e") === "v1");
    expect(post?.get(PERMIT_HEADER)).toBeNull();
    expect(post?.get("x-cloister-e2e-permit")).toBeTruthy();
    expect(got).toHaveLength(1);
    const r = receiptFromWire(got[0]);
    expect(r.receipt).toMatchObject({ completionTokens: 12n, promptTokens: 5n, cumulative: requestCost(PRICE, 5n, 12n) });
    expect(await signerOf(r)).toBe(enclave.address.toLowerCase());
    // Interim receipts went out as the stream did (every 4 tokens); the last is the final one.
    const head = await n.receipts.head(`${p.id}:${enclave.address.toLowerCase()}:${PRICE.model}`);
    expect(head?.seq).toBeGreaterThan(1n);
    expect(head?.seq).toBe(r.receipt.seq);
  });

  it("an interim receipt covers only chunks the response already handed to its writer, sealed", async () => {
    // The writer (node-server's, here a gate that stops taking frames) is where bytes leave
    // the process: a receipt for a chunk still queued between the layers would pay the node
    // for tokens a SIGKILL then never sends (test/e2e/market.test.ts saw 33 receipted, 31 sent).
    const n = await startPaidNode({ tokens: 40, every: 1 });
    const p = await permit();
    const HANDED = 6;
    let handed = 0;
    let open: () => void = () => {};
    const opened = new Promise<void>((r) => (open = r));
    const gate = (raw: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> => {
      const reader = raw.getReader();
      return new ReadableStream<Uint8Array>(
        {
          async pull(ctrl) {
            if (handed >= HANDED) await opened;
            const { done, value } = await reader.read();
            if (done) return ctrl.close();
            handed++;
            ctrl.enqueue(value);
          },
          cancel: (r) => reader.cancel(r),
        },
        { highWaterMark: 0 },
      );
    };
    const vf = createVerifiedFetch({
      baseURL: `${n.url}/v1`,
      allowSimulated: true,
      attestation: { onWarning: () => {} },
      fetch: async (input, init) => {
        const res = await n.app.fetch(new Request(input, init));
        if (!(res.headers.get("content-type") ?? "").startsWith("application/cloister-e2e") || !res.body) return res;
        return new Response(gate(res.body), { status: res.status, headers: res.headers });
      },
    });
    const res = await vf(`${n.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json", [PERMIT_HEADER]: encodePermitHeader(p) }, body: body(true) });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = "";
    const reading = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        text += dec.decode(value, { stream: true });
      }
    })();
    // The backend is instant: anything the layers would read ahead, they have read by now.
    await new Promise((r) => setTimeout(r, 300));
    expect(handed).toBe(HANDED);
    const sent = (text.match(/ w\d+/g) ?? []).length;
    const receipted = async (): Promise<number> => Number((await n.receipts.latest())[0]?.receipt.receipt.completionTokens ?? 0);
    expect(sent).toBeGreaterThan(0);
    expect(await receipted()).toBeGreaterThan(0);
    expect(await receipted()).toBeLessThanOrEqual(sent);
    open();
    await reading;
    expect((text.match(/ w\d+/g) ?? []).length).toBe(40);
    expect(await receipted()).toBe(40);
  });

  it("withholds a stream's [DONE] until the final receipt is durable", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let appends = 0;
    const n = await startPaidNode({
      tokens: 3,
      every: 100,
      store: (s) => ({
        head: (c) => s.head(c),
        latest: () => s.latest(),
        append: async (c, p, r, id) => {
          appends++;
          await gate;
          return s.append(c, p, r, id);
        },
      }),
    });
    const res = await fetch(`${n.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json", [PERMIT_HEADER]: encodePermitHeader(await permit()) }, body: body(true) });
    const reader = res.body!.getReader();
    let text = "";
    const dec = new TextDecoder();
    // Everything but the last chunk arrives while the receipt's write is pending.
    for (let i = 0; i < 50 && appends === 0; i++) {
      const { value } = await reader.read();
      text += dec.decode(value);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(appends).toBeGreaterThan(0);
    expect(text).not.toContain("[DONE]");
    release();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value);
    }
    expect(text).toContain("[DONE]");
  });

  it("withholds the answer (500) when the receipt cannot be stored", async () => {
    const n = await startPaidNode({
      store: (s) => ({ head: (c) => s.head(c), latest: () => s.latest(), append: async () => Promise.reject(new Error("disk full")) }),
    });
    const res = await fetch(`${n.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json", [PERMIT_HEADER]: encodePermitHeader(await permit()) }, body: body(false) });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).toContain("receipt_not_stored");
    expect(text).not.toContain("w1");
  });

  it("refuses a permit whose maximum the channel already reached", async () => {
    const n = await startPaidNode({ tokens: 10 });
    const p = await permit({ maxAmount: requestCost(PRICE, 5n, 10n) });
    const send = () => fetch(`${n.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json", [PERMIT_HEADER]: encodePermitHeader(p) }, body: body(false) });
    expect((await send()).status).toBe(200);
    const again = await send();
    expect(again.status).toBe(402);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("permit_exhausted");
  });
});
