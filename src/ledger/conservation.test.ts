/**
 * Randomized sequences of deposits, permits, receipts, settlements, withdrawals, stakes,
 * slashes and claims against the real Escrow on anvil, checked step by step against a
 * reference model: value is conserved exactly (deposits + stakes = balances + stakes +
 * claimable + paid out, slashed included) and every settlement pays what the model says.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalAccount } from "viem";
import { Escrow } from "./contracts/artifacts.js";
import { makePermit, makeReceipt, settle, type SignedPermit } from "./test-escrow.js";
import { MODEL, startTestMarket, type RegisteredNode, type TestMarket } from "./test-market.js";
import { ZERO_ADDRESS, type EvmAddress } from "./typed-data.js";

let m: TestMarket;
let nodes: RegisteredNode[];
beforeAll(async () => {
  m = await startTestMarket();
  nodes = [await m.registerNode({ operator: m.accounts.operator }), await m.registerNode({ operator: m.accounts.operator2 })];
  await m.send(m.accounts.modelOwner, m.addresses.escrow, Escrow.abi, "setModel", [MODEL, m.accounts.modelOwner.address, 1000]);
  await m.send(m.accounts.deployer, m.addresses.escrow, Escrow.abi, "setFee", [100, m.accounts.treasury.address]);
});
afterAll(async () => {
  await m?.stop();
});

type Op =
  | { kind: "deposit"; user: number; amount: bigint }
  | { kind: "permit"; user: number; node: number; cap: bigint }
  | { kind: "serve"; permit: number; amount: bigint; settle: boolean }
  | { kind: "requestWithdraw"; user: number; amount: bigint }
  | { kind: "withdraw"; user: number }
  | { kind: "advance" }
  | { kind: "stake"; node: number; amount: bigint }
  | { kind: "slash"; node: number }
  | { kind: "claim"; who: number };

const amount = fc.bigInt({ min: 1n, max: 5_000n });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("deposit" as const), user: fc.nat(1), amount }),
  fc.record({ kind: fc.constant("permit" as const), user: fc.nat(1), node: fc.nat(1), cap: amount }),
  fc.record({ kind: fc.constant("serve" as const), permit: fc.nat(7), amount: fc.bigInt({ min: 0n, max: 2_000n }), settle: fc.boolean() }),
  fc.record({ kind: fc.constant("requestWithdraw" as const), user: fc.nat(1), amount }),
  fc.record({ kind: fc.constant("withdraw" as const), user: fc.nat(1) }),
  fc.record({ kind: fc.constant("advance" as const) }),
  fc.record({ kind: fc.constant("stake" as const), node: fc.nat(1), amount }),
  fc.record({ kind: fc.constant("slash" as const), node: fc.nat(1) }),
  fc.record({ kind: fc.constant("claim" as const), who: fc.nat(4) }),
);

interface Model {
  balance: Map<string, bigint>;
  claimable: Map<string, bigint>;
  stake: Map<string, bigint>;
  pending: Map<string, { amount: bigint; unlockAt: bigint }>;
  deposited: bigint;
  staked: bigint;
  paidOut: bigint;
  slashed: bigint;
  slashedNodes: Set<number>;
}

const get = (mp: Map<string, bigint>, k: string): bigint => mp.get(k) ?? 0n;
const add = (mp: Map<string, bigint>, k: string, v: bigint): void => {
  mp.set(k, get(mp, k) + v);
};

async function run(ops: readonly Op[]): Promise<void> {
  const users: LocalAccount[] = [m.accounts.user, m.accounts.user2];
  const claimers: LocalAccount[] = [m.accounts.operator, m.accounts.operator2, m.accounts.modelOwner, m.accounts.treasury, m.accounts.user];
  const md: Model = { balance: new Map(), claimable: new Map(), stake: new Map(), pending: new Map(), deposited: 0n, staked: 0n, paidOut: 0n, slashed: 0n, slashedNodes: new Set() };
  const permits: { p: SignedPermit; node: number; seq: bigint; cumulative: bigint; settled: bigint; spent: bigint; cap: bigint; user: string }[] = [];
  const escrow = m.addresses.escrow;
  for (const o of ops) {
    switch (o.kind) {
      case "deposit": {
        const u = users[o.user]!;
        await m.send(u, escrow, Escrow.abi, "depositNative", [], o.amount);
        add(md.balance, u.address, o.amount);
        md.deposited += o.amount;
        break;
      }
      case "permit": {
        const u = users[o.user]!;
        const p = await makePermit(m, u, { node: nodes[o.node]!.enclave.address, maxAmount: o.cap, expiry: (await m.now()) + 30n * 86400n });
        permits.push({ p, node: o.node, seq: 0n, cumulative: 0n, settled: 0n, spent: 0n, cap: o.cap, user: u.address });
        break;
      }
      case "serve": {
        const ch = permits[o.permit % Math.max(permits.length, 1)];
        if (!ch) break;
        ch.seq += 1n;
        ch.cumulative += o.amount;
        if (!o.settle || md.slashedNodes.has(ch.node)) break;
        const n = nodes[ch.node]!;
        await settle(m, m.accounts.relayer, ch.p, await makeReceipt(m, n.enclave, ch.p, { seq: ch.seq, cumulative: ch.cumulative }));
        let due = ch.cumulative - ch.settled;
        if (due > ch.cap - ch.spent) due = ch.cap - ch.spent;
        if (due > get(md.balance, ch.user)) due = get(md.balance, ch.user);
        ch.settled += due;
        ch.spent += due;
        add(md.balance, ch.user, -due);
        const fee = (due * 100n) / 10_000n;
        const royalty = (due * 1000n) / 10_000n;
        add(md.claimable, m.accounts.treasury.address, fee);
        add(md.claimable, m.accounts.modelOwner.address, royalty);
        add(md.claimable, n.operator.address, due - fee - royalty);
        break;
      }
      case "requestWithdraw": {
        const u = users[o.user]!;
        await m.send(u, escrow, Escrow.abi, "requestWithdraw", [ZERO_ADDRESS, o.amount]);
        md.pending.set(u.address, { amount: o.amount, unlockAt: (await m.now()) + 3600n });
        break;
      }
      case "withdraw": {
        const u = users[o.user]!;
        const p = md.pending.get(u.address);
        if (!p || (await m.now()) + 1n < p.unlockAt) break;
        await m.send(u, escrow, Escrow.abi, "withdraw", [ZERO_ADDRESS]);
        const amt = p.amount < get(md.balance, u.address) ? p.amount : get(md.balance, u.address);
        add(md.balance, u.address, -amt);
        md.paidOut += amt;
        md.pending.delete(u.address);
        break;
      }
      case "advance":
        await m.advance(3601);
        break;
      case "stake": {
        const opr = nodes[o.node]!.operator;
        await m.send(opr, escrow, Escrow.abi, "stake", [], o.amount);
        add(md.stake, opr.address, o.amount);
        md.staked += o.amount;
        break;
      }
      case "slash": {
        const n = nodes[o.node]!;
        const ch = permits.find((c) => c.node === o.node);
        if (!ch) break;
        const a = await makeReceipt(m, n.enclave, ch.p, { seq: 1_000n, cumulative: 1n, tag: "a" });
        const b = await makeReceipt(m, n.enclave, ch.p, { seq: 1_000n, cumulative: 1n, tag: "b" });
        await m.send(m.accounts.user, escrow, Escrow.abi, "slash", [a.receipt, a.signature, b.receipt, b.signature]);
        const s = get(md.stake, n.operator.address);
        md.stake.set(n.operator.address, 0n);
        md.slashed += s;
        add(md.claimable, m.accounts.treasury.address, s);
        md.slashedNodes.add(o.node);
        break;
      }
      case "claim": {
        const who = claimers[o.who]!;
        const c = get(md.claimable, who.address);
        if (c === 0n) break;
        await m.send(who, escrow, Escrow.abi, "claim", [ZERO_ADDRESS]);
        md.claimable.set(who.address, 0n);
        md.paidOut += c;
        break;
      }
    }
  }
  // The contract agrees with the model, entry by entry...
  const read = (fn: string, args: readonly unknown[]): Promise<bigint> => m.read<bigint>(escrow, Escrow.abi, fn, args);
  let balances = 0n;
  for (const u of users) {
    const b = await read("balanceOf", [u.address, ZERO_ADDRESS]);
    expect(b).toBe(get(md.balance, u.address));
    balances += b;
  }
  let claimables = 0n;
  for (const w of new Set([...claimers.map((c) => c.address)])) {
    const c = await read("claimable", [w, ZERO_ADDRESS]);
    expect(c).toBe(get(md.claimable, w));
    claimables += c;
  }
  let stakes = 0n;
  for (const n of nodes) stakes += await read("stakeOf", [n.operator.address]);
  expect(await read("totalSlashed", [])).toBe(md.slashed);
  // ...and value is conserved exactly, against the ether the contract actually holds.
  const held = await m.client.getBalance({ address: escrow as EvmAddress });
  expect(held).toBe(balances + stakes + claimables);
  expect(md.deposited + md.staked).toBe(balances + stakes + claimables + md.paidOut);
  const payouts = claimables + md.paidOut - md.slashed;
  expect(md.deposited + md.staked).toBe(balances + stakes + payouts + md.slashed);
}

describe("Escrow conservation (fast-check, real anvil)", () => {
  it("random sequences conserve value exactly and pay what the reference model predicts", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 24 }), async (ops) => {
        const snap = await m.snapshot();
        try {
          await run(ops);
        } finally {
          await m.revertTo(snap);
        }
      }),
      { numRuns: 10, seed: 9 },
    );
  });
});
