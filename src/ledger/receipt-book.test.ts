import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keccak256, stringToBytes } from "viem";
import { createEvmChain } from "./evm-chain.js";
import { createReceiptBook, type MeteredRequest } from "./receipt-book.js";
import { openSqliteReceiptStore } from "./receipt-store-sqlite.js";
import { receiptDigest } from "./sign.js";
import { DEFAULT_PRICE, MODEL, startTestMarket, type RegisteredNode, type TestMarket } from "./test-market.js";
import { requestCost, ZERO_ADDRESS, ZERO_HASH } from "./typed-data.js";
import { recoverTypedDataAddress } from "viem";
import { domain, RECEIPT_TYPES } from "./typed-data.js";

let m: TestMarket;
let node: RegisteredNode;
let dir: string;
beforeAll(async () => {
  m = await startTestMarket();
  node = await m.registerNode();
  dir = mkdtempSync(join(tmpdir(), "cloister-receipts-"));
});
afterAll(async () => {
  await m?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("receipt book (node side)", () => {
  it("signs one durable receipt per request, continues the seq after a restart, and the escrow pays the total once", async () => {
    const user = createEvmChain({ rpcUrl: m.anvil.rpcUrl, chainId: m.chainId, addresses: m.addresses, account: m.accounts.user2 });
    await user.deposit(ZERO_ADDRESS, 10_000_000n);
    const permit = await user.signPermit({ node: node.enclave.address, policy: ZERO_HASH, token: ZERO_ADDRESS, maxAmount: 1_000_000n, expiry: (await m.now()) + 86400n, nonce: 1n });
    const escrow = { chainId: m.chainId, address: m.addresses.escrow };
    const req = (i: number): MeteredRequest => ({
      permit, model: MODEL, price: DEFAULT_PRICE, priceVersion: 1,
      requestHash: keccak256(stringToBytes(`q${i}`)), responseHash: keccak256(stringToBytes(`a${i}`)), promptTokens: 1000n + BigInt(i), completionTokens: 3000n,
    });
    const now = await m.now();
    const path = join(dir, "receipts.db");
    let store = openSqliteReceiptStore(path);
    let book = createReceiptBook({ enclave: node.enclave, escrow, store });
    // Concurrent requests on one channel still get distinct, consecutive seqs.
    const first = await Promise.all([0, 1, 2, 3, 4].map((i) => book.issue(req(i), now)));
    expect(first.map((r) => r.receipt.seq).sort()).toEqual([1n, 2n, 3n, 4n, 5n]);
    const signer = await recoverTypedDataAddress({ domain: domain("escrow", m.chainId, m.addresses.escrow), types: RECEIPT_TYPES, primaryType: "Receipt", message: first[0]!.receipt, signature: first[0]!.signature });
    expect(signer).toBe(node.enclave.address);
    store.close();

    // A restart (new process state, same database) continues the channel.
    store = openSqliteReceiptStore(path);
    book = createReceiptBook({ enclave: node.enclave, escrow, store });
    const sixth = await book.issue(req(5), now);
    expect(sixth.receipt.seq).toBe(6n);
    const total = [0, 1, 2, 3, 4, 5].reduce((s, i) => s + requestCost(DEFAULT_PRICE, 1000n + BigInt(i), 3000n), 0n);
    expect(sixth.receipt.cumulative).toBe(total);
    // The store itself refuses a second receipt for one (channel, seq).
    const scratch = openSqliteReceiptStore(":memory:");
    await scratch.append("c", permit, sixth);
    await expect(scratch.append("c", permit, sixth)).rejects.toMatchObject({ code: "RECEIPT_SEQ_TAKEN" });
    scratch.close();

    const batch = (await store.latest()).filter((s) => s.permit.id === permit.id);
    expect(batch).toHaveLength(1);
    expect(receiptDigest(escrow, batch[0]!.receipt.receipt)).toBe(receiptDigest(escrow, sixth.receipt));
    const before = await user.balance(m.accounts.user2.address, ZERO_ADDRESS);
    await createEvmChain({ rpcUrl: m.anvil.rpcUrl, chainId: m.chainId, addresses: m.addresses, account: m.accounts.relayer }).settle(batch);
    expect(before - (await user.balance(m.accounts.user2.address, ZERO_ADDRESS))).toBe(total);
    // Settling the same receipts again pays nothing more.
    await expect(createEvmChain({ rpcUrl: m.anvil.rpcUrl, chainId: m.chainId, addresses: m.addresses, account: m.accounts.relayer }).settle(batch)).rejects.toMatchObject({ details: { revert: "ReceiptAlreadySettled" } });
    store.close();
  });

  it("refuses requests past the permit's cap or expiry, or for another node", async () => {
    const store = openSqliteReceiptStore(join(dir, "cap.db"));
    const escrow = { chainId: m.chainId, address: m.addresses.escrow };
    const user = createEvmChain({ rpcUrl: m.anvil.rpcUrl, chainId: m.chainId, addresses: m.addresses, account: m.accounts.user });
    const now = await m.now();
    const small = await user.signPermit({ node: node.enclave.address, policy: ZERO_HASH, token: ZERO_ADDRESS, maxAmount: 1_000_000n, expiry: now + 100n, nonce: 2n });
    const book = createReceiptBook({ enclave: node.enclave, escrow, store });
    const r = { model: MODEL, price: DEFAULT_PRICE, priceVersion: 1, requestHash: ZERO_HASH, responseHash: ZERO_HASH, promptTokens: 1_000_000n, completionTokens: 0n };
    await book.issue({ ...r, permit: small }, now);
    await expect(book.issue({ ...r, permit: small }, now)).rejects.toMatchObject({ code: "PERMIT_EXHAUSTED" });
    await expect(book.issue({ ...r, permit: small }, now + 100n)).rejects.toMatchObject({ code: "PERMIT_EXPIRED" });
    const other = await user.signPermit({ node: m.accounts.relayer.address, policy: ZERO_HASH, token: ZERO_ADDRESS, maxAmount: 5n, expiry: now + 100n, nonce: 3n });
    await expect(book.issue({ ...r, permit: other }, now)).rejects.toMatchObject({ code: "PERMIT_NOT_FOR_NODE" });
    store.close();
  });
});
