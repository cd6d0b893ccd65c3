import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeFunctionData, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { Escrow, TestToken } from "./contracts/artifacts.js";
import { ReentrantReceiver, ReentrantToken } from "./contracts/test-artifacts.js";
import { deployContract } from "./deploy.js";
import { revertName } from "./revert.js";
import { balanceOf, claimable, makePermit, makeReceipt, settle } from "./test-escrow.js";
import { expectRevert, MODEL, startTestMarket, type RegisteredNode, type TestMarket } from "./test-market.js";
import { ZERO_ADDRESS, type EvmAddress } from "./typed-data.js";

let m: TestMarket;
let nodeA: RegisteredNode;
let nodeB: RegisteredNode;
beforeAll(async () => {
  m = await startTestMarket();
  nodeA = await m.registerNode();
  nodeB = await m.registerNode({ operator: m.accounts.operator2 });
  // The model owner takes 10% royalty; the protocol 1%.
  await m.send(m.accounts.modelOwner, m.addresses.escrow, Escrow.abi, "setModel", [MODEL, m.accounts.modelOwner.address, 1000]);
  await m.send(m.accounts.deployer, m.addresses.escrow, Escrow.abi, "setFee", [100, m.accounts.treasury.address]);
  await m.send(m.accounts.user, m.addresses.escrow, Escrow.abi, "depositNative", [], 10_000_000n);
});
afterAll(async () => {
  await m?.stop();
});

describe("Escrow settlement", () => {
  it("pays only the increase of the cumulative amount, split exactly between operator, model owner and protocol", async () => {
    const p = await makePermit(m, m.accounts.user, { node: nodeA.enclave.address, maxAmount: 1_000_000n });
    const before = {
      op: await claimable(m, m.accounts.operator.address),
      owner: await claimable(m, m.accounts.modelOwner.address),
      fee: await claimable(m, m.accounts.treasury.address),
      user: await balanceOf(m, m.accounts.user.address),
    };
    // Three requests; the node settles only the last receipt: one tx for all three.
    await makeReceipt(m, nodeA.enclave, p, { seq: 1n, cumulative: 1_000n });
    await makeReceipt(m, nodeA.enclave, p, { seq: 2n, cumulative: 3_000n });
    const r3 = await makeReceipt(m, nodeA.enclave, p, { seq: 3n, cumulative: 10_000n });
    await settle(m, m.accounts.relayer, p, r3);
    const r5 = await makeReceipt(m, nodeA.enclave, p, { seq: 5n, cumulative: 12_345n });
    await settle(m, m.accounts.relayer, p, r5);
    const paid = 12_345n;
    const fee = (paid * 100n) / 10_000n;
    const royalty = (paid * 1000n) / 10_000n;
    expect((await claimable(m, m.accounts.treasury.address)) - before.fee).toBe(fee);
    expect((await claimable(m, m.accounts.modelOwner.address)) - before.owner).toBe(royalty);
    expect((await claimable(m, m.accounts.operator.address)) - before.op).toBe(paid - fee - royalty);
    expect(before.user - (await balanceOf(m, m.accounts.user.address))).toBe(paid);
  });

  it("a receipt pays once: the same receipt again is refused", async () => {
    const p = await makePermit(m, m.accounts.user, { node: nodeA.enclave.address });
    const r = await makeReceipt(m, nodeA.enclave, p, { seq: 1n, cumulative: 500n });
    await settle(m, m.accounts.relayer, p, r);
    await expectRevert(settle(m, m.accounts.relayer, p, r), "ReceiptAlreadySettled");
  });

  it("refuses an out-of-order receipt (a lower seq after a higher one)", async () => {
    const p = await makePermit(m, m.accounts.user, { node: nodeA.enclave.address });
    const r1 = await makeReceipt(m, nodeA.enclave, p, { seq: 1n, cumulative: 100n });
    const r2 = await makeReceipt(m, nodeA.enclave, p, { seq: 2n, cumulative: 200n });
    await settle(m, m.accounts.relayer, p, r2);
    await expectRevert(settle(m, m.accounts.relayer, p, r1), "ReceiptOutOfOrder");
  });

  it("refuses a receipt whose cumulative amount went down", async () => {
    const p = await makePermit(m, m.accounts.user, { node: nodeA.enclave.address });
    await settle(m, m.accounts.relayer, p, await makeReceipt(m, nodeA.enclave, p, { seq: 1n, cumulative: 300n }));
    await expectRevert(settle(m, m.accounts.relayer, p, await makeReceipt(m, nodeA.enclave, p, { seq: 2n, cumulative: 299n })), "CumulativeDecreased");
  });

  it("an over-cap receipt pays the permit's cap and no more, ever", async () => {
    const p = await makePermit(m, m.accounts.user, { node: nodeA.enclave.address, maxAmount: 1_000n });
    const before = await balanceOf(m, m.accounts.user.address);
    await settle(m, m.accounts.relayer, p, await makeReceipt(m, nodeA.enclave, p, { seq: 1n, cumulative: 5_000n }));
    await settle(m, m.accounts.relayer, p, await makeReceipt(m, nodeA.enclave, p, { seq: 2n, cumulative: 9_000n }));
    expect(before - (await balanceOf(m, m.accounts.user.address))).toBe(1_000n);
  });

  it("refuses a receipt signed by a key other than the enclave's, and a permit not signed by its user", async () => {
    const p = await makePermit(m, m.accounts.user, { node: nodeA.enclave.address });
    const forged = await makeReceipt(m, nodeA.enclave, p, { seq: 1n, cumulative: 100n, signer: privateKeyToAccount(generatePrivateKey()) });
    await expectRevert(settle(m, m.accounts.relayer, p, forged), "BadReceiptSignature");
    const bad = { ...(await makePermit(m, m.accounts.user, { node: nodeA.enclave.address })) };
    const other = await makePermit(m, m.accounts.user2, { node: nodeA.enclave.address });
    const mixed = { ...bad, signature: other.signature };
    await expectRevert(settle(m, m.accounts.relayer, mixed, await makeReceipt(m, nodeA.enclave, mixed, { seq: 1n, cumulative: 1n })), "BadPermitSignature");
  });

  it("refuses a receipt from a node the permit does not name, and from an enclave never admitted", async () => {
    const p = await makePermit(m, m.accounts.user, { node: nodeA.enclave.address });
    await expectRevert(settle(m, m.accounts.relayer, p, await makeReceipt(m, nodeB.enclave, p, { seq: 1n, cumulative: 1n })), "NodeNotAllowed");
    const stranger = privateKeyToAccount(generatePrivateKey());
    const q = await makePermit(m, m.accounts.user, { node: stranger.address });
    await expectRevert(settle(m, m.accounts.relayer, q, await makeReceipt(m, stranger, q, { seq: 1n, cumulative: 1n })), "UnknownEnclave");
  });

  it("settles many channels in one transaction", async () => {
    const items = [];
    for (let i = 0; i < 5; i++) {
      const p = await makePermit(m, m.accounts.user, { node: nodeB.enclave.address });
      const r = await makeReceipt(m, nodeB.enclave, p, { seq: 1n, cumulative: 100n + BigInt(i) });
      items.push({ permit: p.permit, userSignature: p.signature, receipt: r.receipt, enclaveSignature: r.signature });
    }
    const before = await claimable(m, m.accounts.operator2.address);
    const tx = await m.send(m.accounts.relayer, m.addresses.escrow, Escrow.abi, "settleBatch", [items]);
    expect(tx.logs.length).toBe(5 * 1);
    // Per item 100+i, minus the 1% fee and 10% royalty, each rounded down per item.
    const share = [100n, 101n, 102n, 103n, 104n].reduce((s, x) => s + (x - (x * 100n) / 10_000n - (x * 1000n) / 10_000n), 0n);
    expect((await claimable(m, m.accounts.operator2.address)) - before).toBe(share);
  });
});

describe("Escrow withdrawals, stake and slashing", () => {
  it("withdrawals wait for the delay and leave funds settleable meanwhile", async () => {
    const u = m.accounts.user2;
    await m.send(u, m.addresses.escrow, Escrow.abi, "depositNative", [], 1_000n);
    await m.send(u, m.addresses.escrow, Escrow.abi, "requestWithdraw", [ZERO_ADDRESS, 1_000n]);
    await expectRevert(m.send(u, m.addresses.escrow, Escrow.abi, "withdraw", [ZERO_ADDRESS]), "NotYet");
    const p = await makePermit(m, u, { node: nodeA.enclave.address });
    await settle(m, m.accounts.relayer, p, await makeReceipt(m, nodeA.enclave, p, { seq: 1n, cumulative: 400n }));
    await m.advance(3601);
    const eth = await m.client.getBalance({ address: m.addresses.escrow });
    await m.send(u, m.addresses.escrow, Escrow.abi, "withdraw", [ZERO_ADDRESS]);
    expect(eth - (await m.client.getBalance({ address: m.addresses.escrow }))).toBe(600n);
    expect(await balanceOf(m, u.address)).toBe(0n);
  });

  it("two receipts with one seq and different content slash the operator's stake; the enclave is then refused", async () => {
    const n = await m.registerNode({ operator: m.accounts.relayer });
    await m.send(m.accounts.relayer, m.addresses.escrow, Escrow.abi, "stake", [], 5_000n);
    const p = await makePermit(m, m.accounts.user, { node: n.enclave.address });
    const a = await makeReceipt(m, n.enclave, p, { seq: 7n, cumulative: 100n, tag: "a" });
    const b = await makeReceipt(m, n.enclave, p, { seq: 7n, cumulative: 100n, tag: "b" });
    await expectRevert(m.send(m.accounts.user, m.addresses.escrow, Escrow.abi, "slash", [a.receipt, a.signature, a.receipt, a.signature]), "NotEquivocation");
    const c = await makeReceipt(m, n.enclave, p, { seq: 8n, cumulative: 100n, tag: "b" });
    await expectRevert(m.send(m.accounts.user, m.addresses.escrow, Escrow.abi, "slash", [a.receipt, a.signature, c.receipt, c.signature]), "NotEquivocation");
    const before = await claimable(m, m.accounts.treasury.address);
    await m.send(m.accounts.user, m.addresses.escrow, Escrow.abi, "slash", [a.receipt, a.signature, b.receipt, b.signature]);
    expect(await m.read<bigint>(m.addresses.escrow, Escrow.abi, "stakeOf", [m.accounts.relayer.address])).toBe(0n);
    expect((await claimable(m, m.accounts.treasury.address)) - before).toBe(5_000n);
    await expectRevert(settle(m, m.accounts.user, p, a), "EnclaveSlashed");
  });

  it("settles ERC-20 deposits the same way", async () => {
    const token = m.addresses.testToken as EvmAddress;
    const u = m.accounts.user;
    await m.send(u, token, TestToken.abi, "mint", [u.address, 10_000n]);
    await m.send(u, token, TestToken.abi, "approve", [m.addresses.escrow, 10_000n]);
    await m.send(u, m.addresses.escrow, Escrow.abi, "deposit", [token, 10_000n]);
    const p = await makePermit(m, u, { node: nodeA.enclave.address, token });
    await settle(m, m.accounts.relayer, p, await makeReceipt(m, nodeA.enclave, p, { seq: 1n, cumulative: 1_000n }));
    const share = await claimable(m, m.accounts.operator.address, token);
    expect(share).toBe(1_000n - 10n - 100n);
    await m.send(m.accounts.operator, m.addresses.escrow, Escrow.abi, "claim", [token]);
    expect(await m.read<bigint>(token, TestToken.abi, "balanceOf", [m.accounts.operator.address])).toBe(share);
  });
});

describe("Escrow under re-entry", () => {
  it("a payout contract that re-enters claim() is paid once", async () => {
    const w = m.wallet(m.accounts.deployer);
    const evil = await deployContract(w, m.client, ReentrantReceiver, []);
    const n = await m.registerNode({ payout: evil });
    const p = await makePermit(m, m.accounts.user, { node: n.enclave.address });
    await settle(m, m.accounts.relayer, p, await makeReceipt(m, n.enclave, p, { seq: 1n, cumulative: 10_000n }));
    const owed = await claimable(m, evil);
    expect(owed).toBe(10_000n - 100n - 1_000n);
    const claimCall = encodeFunctionData({ abi: Escrow.abi, functionName: "claim", args: [ZERO_ADDRESS] });
    await m.send(m.accounts.deployer, evil, ReentrantReceiver.abi, "arm", [m.addresses.escrow, claimCall]);
    await m.send(m.accounts.deployer, evil, ReentrantReceiver.abi, "exec", [m.addresses.escrow, 0n, claimCall]);
    expect(await m.read<boolean>(evil, ReentrantReceiver.abi, "reentered", [])).toBe(true);
    expect(await m.read<boolean>(evil, ReentrantReceiver.abi, "reentrySucceeded", [])).toBe(false);
    const why = await m.read<Hex>(evil, ReentrantReceiver.abi, "lastRevert", []);
    expect(revertName({ raw: why })).toBe("ReentrancyGuardReentrantCall");
    expect(await m.read<bigint>(evil, ReentrantReceiver.abi, "received", [])).toBe(owed);
    expect(await claimable(m, evil)).toBe(0n);
  });

  it("a malicious ERC-20 that re-enters the escrow during a transfer out is stopped", async () => {
    const w = m.wallet(m.accounts.deployer);
    const evil = await deployContract(w, m.client, ReentrantToken, []);
    const u = m.accounts.user2;
    await m.send(u, evil, ReentrantToken.abi, "mint", [u.address, 1_000n]);
    await m.send(u, evil, ReentrantToken.abi, "approve", [m.addresses.escrow, 1_000n]);
    await m.send(u, m.addresses.escrow, Escrow.abi, "deposit", [evil, 1_000n]);
    await m.send(u, m.addresses.escrow, Escrow.abi, "requestWithdraw", [evil, 1_000n]);
    await m.advance(3601);
    const again = encodeFunctionData({ abi: Escrow.abi, functionName: "withdraw", args: [evil] });
    await m.send(m.accounts.deployer, evil, ReentrantToken.abi, "arm", [m.addresses.escrow, again]);
    await m.send(u, m.addresses.escrow, Escrow.abi, "withdraw", [evil]);
    expect(await m.read<boolean>(evil, ReentrantToken.abi, "reentered", [])).toBe(true);
    expect(await m.read<boolean>(evil, ReentrantToken.abi, "reentrySucceeded", [])).toBe(false);
    const why = await m.read<Hex>(evil, ReentrantToken.abi, "lastRevert", []);
    expect(revertName({ raw: why })).toBe("ReentrancyGuardReentrantCall");
    expect(await m.read<bigint>(evil, ReentrantToken.abi, "balanceOf", [u.address])).toBe(1_000n);
    expect(await m.read<bigint>(evil, ReentrantToken.abi, "balanceOf", [m.addresses.escrow])).toBe(0n);
  });
});
