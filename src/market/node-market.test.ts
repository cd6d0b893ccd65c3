/**
 * The node's market side against a real local chain (anvil, `startLocalChain`, its verifier
 * member as an HTTP service): registration through the quorum, refused when the member's own
 * attestation fails; paid requests; batch settlement paying operator and model owner exactly.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorProvider } from "../attest/simulator/provider.js";
import { createGateway, freshE2EKeys } from "../gateway/app.js";
import { startServer, type RunningServer } from "../gateway/server.js";
import { echoTee } from "../gateway/test-fakes.js";
import type { GenerationEvent, InferenceBackend } from "../inference/backend.js";
import { ANVIL_KEYS } from "../ledger/anvil.js";
import type { Chain } from "../ledger/chain.js";
import { Escrow } from "../ledger/contracts/artifacts.js";
import { createEvmChain } from "../ledger/evm-chain.js";
import { startLocalChain, type LocalChain } from "../ledger/local-chain.js";
import { openSqliteReceiptStore } from "../ledger/receipt-store-sqlite.js";
import { modelId, requestCost, ZERO_ADDRESS, ZERO_HASH, type EvmAddress, type Price } from "../ledger/typed-data.js";
import { openSqliteStore } from "../store/sqlite.js";
import { createSigner } from "../seal/signing.js";
import { toHex } from "../util/bytes.js";
import { createNodePayments } from "./payments.js";
import { registerNode } from "./register.js";
import { settlePending } from "./settle.js";
import { encodePermitHeader, MARKET_RECEIPT_HEADER, PERMIT_HEADER } from "./wire.js";
import { createWalletClient, http } from "viem";
import { foundry } from "viem/chains";
import type { TeeProvider } from "../attest/provider.js";

let local: LocalChain;
const operatorKey = ANVIL_KEYS[1];
const userKey = ANVIL_KEYS[3];
const ownerKey = ANVIL_KEYS[5];
const PRICE: Price = { model: modelId("fake"), promptPerMTok: 2_000_000_000n, completionPerMTok: 9_000_000_000n };

beforeAll(async () => {
  local = await startLocalChain();
}, 60_000);
afterAll(async () => {
  await local?.stop();
});

const chainFor = (key: `0x${string}`): Chain =>
  createEvmChain({ rpcUrl: local.market.rpcUrl, chainId: local.market.chainId, addresses: local.market.addresses, account: privateKeyToAccount(key) });

function backend(n: number): InferenceBackend {
  async function* gen(): AsyncGenerator<GenerationEvent> {
    for (let i = 1; i <= n; i++) yield { type: "delta", text: ` t${i}`, usage: { promptTokens: 7, completionTokens: i } };
    yield { type: "done", finishReason: "stop", usage: { promptTokens: 7, completionTokens: n } };
  }
  return { kind: "llama", listModels: async () => [{ id: "fake", ownedBy: "t", created: 1 }], chat: () => gen(), complete: () => gen(), close: async () => {} };
}

async function startNode(tee: TeeProvider = createSimulatorProvider()) {
  const sk = secp256k1.utils.randomSecretKey();
  const enclave = privateKeyToAccount(`0x${toHex(sk)}`);
  const receipts = openSqliteReceiptStore(":memory:");
  const payments = createNodePayments({
    enclave,
    escrow: { chainId: local.market.chainId, address: local.market.addresses.escrow },
    store: receipts,
    pricing: () => ({ version: 1, byModel: new Map([["fake", PRICE]]) }),
    required: true,
  });
  const store = openSqliteStore({ path: ":memory:" });
  const app = createGateway({ backend: backend(20), tee, store, authRequired: false, e2e: freshE2EKeys(false), signers: { ecdsa: createSigner("ecdsa", sk), ed25519: createSigner("ed25519") }, market: payments });
  const server: RunningServer = await startServer(app, { host: "127.0.0.1", port: 0 });
  return {
    enclave,
    receipts,
    url: server.url,
    close: async () => {
      await server.close({ drainMs: 50 });
      await store.close();
      receipts.close();
    },
  };
}

const verifierUrls = (): string[] => [...(local.market.verifierUrls ?? [])];

describe("a node on the local market", () => {
  it("registers through the verifier member, which attests it first; refresh is a new registration", async () => {
    const node = await startNode();
    try {
      const chain = chainFor(operatorKey);
      const reg = { chain, enclave: node.enclave, endpoint: node.url, region: "eu-west", latE6: 48_856_600, lonE6: 2_352_200, prices: [PRICE], verifierUrls: verifierUrls(), threshold: 1 };
      const r = await registerNode(reg);
      expect(r.verdict.enclave).toBe(node.enclave.address.toLowerCase());
      expect(r.verdict.simulated).toBe(true);
      expect(await chain.isActive(node.enclave.address.toLowerCase() as EvmAddress)).toBe(true);
      const rec = await chain.getNode(node.enclave.address.toLowerCase() as EvmAddress);
      expect(rec).toMatchObject({ endpoint: node.url, region: "eu-west", operator: privateKeyToAccount(operatorKey).address.toLowerCase() });
      const again = await registerNode(reg);
      expect(again.verdict.attestationDigest).not.toBe(r.verdict.attestationDigest);
      expect(await chain.statementNonce(node.enclave.address.toLowerCase() as EvmAddress)).toBe(2n);
    } finally {
      await node.close();
    }
  }, 60_000);

  it("gets no verdict for a node whose report does not verify (a fake quote), so it is not registered", async () => {
    const node = await startNode(echoTee);
    try {
      const chain = chainFor(operatorKey);
      await expect(registerNode({ chain, enclave: node.enclave, endpoint: node.url, region: "x", latE6: 0, lonE6: 0, prices: [PRICE], verifierUrls: verifierUrls(), threshold: 1 })).rejects.toMatchObject({ code: "REGISTRATION_FAILED" });
      expect(await chain.getNode(node.enclave.address.toLowerCase() as EvmAddress)).toBeNull();
    } finally {
      await node.close();
    }
  }, 60_000);

  it("refuses to register a key other than the one attested at the endpoint", async () => {
    const node = await startNode();
    try {
      const impostor = privateKeyToAccount(`0x${toHex(secp256k1.utils.randomSecretKey())}`);
      await expect(registerNode({ chain: chainFor(operatorKey), enclave: impostor, endpoint: node.url, region: "x", latE6: 0, lonE6: 0, prices: [PRICE], verifierUrls: verifierUrls(), threshold: 1 })).rejects.toThrow(/another signing key/);
    } finally {
      await node.close();
    }
  }, 60_000);

  it("settles every channel's latest receipt in one batch; operator and model owner get exactly the metered price", async () => {
    const node = await startNode();
    try {
      const operator = chainFor(operatorKey);
      await registerNode({ chain: operator, enclave: node.enclave, endpoint: node.url, region: "eu", latE6: 0, lonE6: 0, prices: [PRICE], verifierUrls: verifierUrls(), threshold: 1 });
      // The model's owner takes 20% royalty.
      const owner = privateKeyToAccount(ownerKey);
      const w = createWalletClient({ account: owner, chain: { ...foundry, id: local.market.chainId }, transport: http(local.market.rpcUrl) });
      const hash = await w.writeContract({ address: local.market.addresses.escrow, abi: Escrow.abi, functionName: "setModel", args: [PRICE.model, owner.address, 2000] });
      const { createPublicClient } = await import("viem");
      await createPublicClient({ chain: { ...foundry, id: local.market.chainId }, transport: http(local.market.rpcUrl) }).waitForTransactionReceipt({ hash });

      const user = chainFor(userKey);
      await user.deposit(ZERO_ADDRESS, 10n ** 18n);
      const expiry = (await user.chainTime()) + 3600n;
      const permits = [
        await user.signPermit({ node: node.enclave.address.toLowerCase() as EvmAddress, policy: ZERO_HASH, token: ZERO_ADDRESS, maxAmount: 10n ** 17n, expiry, nonce: 1n }),
        await user.signPermit({ node: node.enclave.address.toLowerCase() as EvmAddress, policy: ZERO_HASH, token: ZERO_ADDRESS, maxAmount: 10n ** 17n, expiry, nonce: 2n }),
      ];
      const perRequest = requestCost(PRICE, 7n, 20n);
      let total = 0n;
      for (const [i, p] of permits.entries()) {
        for (let k = 0; k <= i + 1; k++) {
          const res = await fetch(`${node.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json", [PERMIT_HEADER]: encodePermitHeader(p) }, body: JSON.stringify({ model: "fake", prompt: "x", stream: k % 2 === 1 }) });
          expect(res.status).toBe(200);
          await res.text();
          if (k % 2 === 0) expect(res.headers.get(MARKET_RECEIPT_HEADER)).toBeTruthy();
          total += perRequest;
        }
      }
      const opAddr = operator.account!;
      const before = await operator.claimable(opAddr, ZERO_ADDRESS);
      const report = await settlePending(operator, node.receipts);
      expect(report.settled).toBe(2);
      expect(report.txs).toHaveLength(1);
      expect(report.claimed).toBe(total);
      // Royalty per settled channel: the first permit paid for 2 requests, the second for 3.
      const royalty = (perRequest * 2n * 2000n) / 10_000n + (perRequest * 3n * 2000n) / 10_000n;
      expect((await operator.claimable(opAddr, ZERO_ADDRESS)) - before).toBe(total - royalty);
      expect(await operator.claimable(owner.address.toLowerCase() as EvmAddress, ZERO_ADDRESS)).toBe(royalty);
      // Nothing more to pay: a second run finds every channel settled.
      const again = await settlePending(operator, node.receipts);
      expect(again).toMatchObject({ settled: 0, alreadySettled: 2 });
    } finally {
      await node.close();
    }
  }, 120_000);
});
