/**
 * settleBatch keeps per-batch caches (the registry's answer per enclave, the model's royalty,
 * the payer's balance, running credits per payee) and writes each once: these tests check
 * that a batch mixing users, nodes, models and tokens leaves exactly the state that settling
 * its receipts one at a time leaves, and that calldata the ABI decoder would refuse (an
 * address or uint64 word with high bits set) is still refused by the hand-copied path.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeFunctionData, type Hex } from "viem";
import { Escrow, TestToken } from "./contracts/artifacts.js";
import { makePermit, makeReceipt, settlementArg, type SignedPermit } from "./test-escrow.js";
import { MODEL, startTestMarket, type RegisteredNode, type TestMarket } from "./test-market.js";
import { modelId, ZERO_ADDRESS, type EvmAddress, type Hex32 } from "./typed-data.js";

let m: TestMarket;
let nodeA: RegisteredNode;
let nodeB: RegisteredNode;
let token: EvmAddress;
const OTHER_MODEL = modelId("a model nobody owns");
beforeAll(async () => {
  m = await startTestMarket();
  nodeA = await m.registerNode();
  nodeB = await m.registerNode({ operator: m.accounts.operator2 });
  await m.send(m.accounts.modelOwner, m.addresses.escrow, Escrow.abi, "setModel", [MODEL, m.accounts.modelOwner.address, 1000]);
  await m.send(m.accounts.deployer, m.addresses.escrow, Escrow.abi, "setFee", [100, m.accounts.treasury.address]);
  token = m.addresses.testToken as EvmAddress;
  const u = m.accounts.user;
  await m.send(u, m.addresses.escrow, Escrow.abi, "depositNative", [], 1_000_000n);
  await m.send(u, token, TestToken.abi, "mint", [u.address, 1_000_000n]);
  await m.send(u, token, TestToken.abi, "approve", [m.addresses.escrow, 1_000_000n]);
  await m.send(u, m.addresses.escrow, Escrow.abi, "deposit", [token, 1_000_000n]);
  // user2 can pay 1,000 in all: its later receipts in the batch are cut to what is left.
  await m.send(m.accounts.user2, m.addresses.escrow, Escrow.abi, "depositNative", [], 1_000n);
});
afterAll(async () => {
  await m?.stop();
});

type Arg = ReturnType<typeof settlementArg>;

async function state(channels: readonly Arg[]): Promise<bigint[]> {
  const a = m.accounts;
  const who = [a.operator.address, a.operator2.address, a.modelOwner.address, a.treasury.address, a.user.address, a.user2.address];
  const out: bigint[] = [];
  for (const t of [ZERO_ADDRESS, token]) {
    for (const w of who) {
      out.push(await m.read<bigint>(m.addresses.escrow, Escrow.abi, "claimable", [w, t]));
      out.push(await m.read<bigint>(m.addresses.escrow, Escrow.abi, "balanceOf", [w, t]));
    }
  }
  for (const s of channels) {
    const id = await m.read<Hex32>(m.addresses.escrow, Escrow.abi, "channelId", [s.receipt.permitId, s.receipt.enclave, s.receipt.model]);
    const [settled, lastSeq] = await m.read<readonly [bigint, bigint]>(m.addresses.escrow, Escrow.abi, "channels", [id]);
    const [spent, opened] = await m.read<readonly [bigint, boolean]>(m.addresses.escrow, Escrow.abi, "permits", [s.receipt.permitId]);
    out.push(settled, lastSeq, spent, opened ? 1n : 0n);
  }
  return out;
}

describe("Escrow batch settlement", () => {
  it("a batch mixing users, nodes, models and tokens leaves exactly the state of settling its receipts one by one", async () => {
    const a = m.accounts;
    const pA = await makePermit(m, a.user, { node: nodeA.enclave.address, maxAmount: 50_000n });
    const pB = await makePermit(m, a.user, { node: nodeB.enclave.address });
    const pT = await makePermit(m, a.user, { node: nodeA.enclave.address, token });
    const q1 = await makePermit(m, a.user2, { node: nodeA.enclave.address });
    const q2 = await makePermit(m, a.user2, { node: nodeB.enclave.address });
    const r = async (p: SignedPermit, n: RegisteredNode, seq: bigint, cumulative: bigint, model: Hex32 = MODEL): Promise<Arg> =>
      settlementArg(p, await makeReceipt(m, n.enclave, p, { seq, cumulative, model }));
    // Interleaved so that every cache key changes and comes back: enclave, model, payer, token.
    const batch = [
      await r(pA, nodeA, 1n, 10_000n),
      await r(pA, nodeA, 1n, 7_000n, OTHER_MODEL), // same permit, another channel
      await r(q1, nodeA, 1n, 600n), // user2: pays 600
      await r(pB, nodeB, 3n, 20_000n),
      await r(pT, nodeA, 1n, 30_000n), // ERC-20
      await r(q2, nodeB, 1n, 900n), // user2: only 400 left
      await r(pA, nodeA, 2n, 45_000n), // 35,000 more, over pA's cap of 50,000: pays the 33,000 left
      await r(q1, nodeA, 2n, 700n), // user2: nothing left, seq still advances
      await r(pB, nodeB, 4n, 25_000n, OTHER_MODEL),
    ];
    const snap = await m.snapshot();
    const gasBatch = (await m.send(a.relayer, m.addresses.escrow, Escrow.abi, "settleBatch", [batch])).gasUsed;
    const afterBatch = await state(batch);
    await m.revertTo(snap);
    for (const s of batch) await m.send(a.relayer, m.addresses.escrow, Escrow.abi, "settle", [s]);
    const afterOne = await state(batch);
    expect(afterBatch).toEqual(afterOne);
    // And the figures are the expected ones, not two equal mistakes.
    expect(await m.read<bigint>(m.addresses.escrow, Escrow.abi, "balanceOf", [a.user2.address, ZERO_ADDRESS])).toBe(0n);
    const [spentA] = await m.read<readonly [bigint, boolean]>(m.addresses.escrow, Escrow.abi, "permits", [pA.id]);
    expect(spentA).toBe(50_000n);
    expect(await m.read<bigint>(m.addresses.escrow, Escrow.abi, "claimable", [a.operator2.address, ZERO_ADDRESS])).toBe(
      // pB: 20,000 on MODEL (10% royalty, 1% fee) + 25,000 on OTHER_MODEL (1% fee); q2: 400 on MODEL
      20_000n - 200n - 2_000n + (25_000n - 250n) + (400n - 4n - 40n),
    );
    expect(gasBatch).toBeGreaterThan(0n);
  });

  it("refuses a settlement whose address or uint64 words carry high bits, as the ABI decoder would", async () => {
    const a = m.accounts;
    const p = await makePermit(m, a.user, { node: nodeA.enclave.address });
    const ok = settlementArg(p, await makeReceipt(m, nodeA.enclave, p, { seq: 1n, cumulative: 100n }));
    const data = encodeFunctionData({ abi: Escrow.abi, functionName: "settle", args: [ok] });
    // settle(Settlement): selector, the tuple's offset, then the tuple: permit words 0..6,
    // userSignature offset, receipt words 8..17 (enclave = 9, seq = 17).
    const word = (i: number): number => 2 + 2 * (4 + 32 + 32 * i); // hex index of the word's first byte
    const dirty = (i: number): Hex => `${data.slice(0, word(i))}01${data.slice(word(i) + 2)}` as Hex;
    for (const i of [0, 9, 17]) {
      await expect(m.wallet(a.relayer).sendTransaction({ to: m.addresses.escrow, data: dirty(i), gas: 500_000n }).then((h) => m.client.waitForTransactionReceipt({ hash: h }))).resolves.toMatchObject({ status: "reverted" });
    }
    // The clean encoding of the same settlement goes through.
    const h = await m.wallet(a.relayer).sendTransaction({ to: m.addresses.escrow, data, gas: 500_000n });
    expect((await m.client.waitForTransactionReceipt({ hash: h })).status).toBe("success");
  });
});
