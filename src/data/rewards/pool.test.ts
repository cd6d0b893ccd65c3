/**
 * DataPool on a real anvil (the one deployMarket put in the market, as `cloister chain
 * start` does): a sponsor creates and funds a pool; claims signed by the pipeline's enclave
 * key pay once, to the committed address, never more than the pool holds; every forgery
 * is refused; after the claim deadline only the sponsor withdraws the remainder, once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getAddress } from "viem";
import { DataPool, TestToken } from "../../ledger/contracts/artifacts.js";
import { MEASUREMENTS, OTHER_MEASUREMENTS, startTestMarket, type TestMarket } from "../../ledger/test-market.js";
import type { EvmAddress, Hex32 } from "../../ledger/typed-data.js";
import { createSigner } from "../../seal/signing.js";
import { fromHex } from "../../util/bytes.js";
import { poolDomain, signClaim, type RewardClaim } from "../pipeline/receipt.js";
import { chainTime, claimReward, createPool, extendClaimDeadline, fundPool, getPool, isClaimed, payoutCommitment, poolClient, withdrawPool, type PoolClient } from "./pool.js";

const PIPELINE = "ab".repeat(32);
const SALT = `0x${"5a".repeat(32)}` as Hex32;
let m: TestMarket;
let contract: EvmAddress;
let token: EvmAddress;
let sponsor: PoolClient;
let contributor: PoolClient;
const enclaveKey = generatePrivateKey();
const enclave = createSigner("ecdsa", fromHex(enclaveKey.slice(2)));
const payout = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as EvmAddress;

function claimFor(id: number, over: Partial<RewardClaim> = {}, signer = enclave, at: EvmAddress = contract): ReturnType<typeof signClaim> {
  const c: RewardClaim = {
    contributionId: `0x${id.toString(16).padStart(64, "0")}`,
    dataset: "clinic-notes",
    pipeline: `0x${PIPELINE}`,
    contributor: `0x${"c1".repeat(32)}`,
    payoutCommitment: payoutCommitment(payout, SALT),
    units: "3",
    issuedAt: 1_700_000_000,
    ...over,
  };
  return signClaim(signer, c, poolDomain(m.chainId, at));
}

const DAY = 86_400n;
const until = async (): Promise<bigint> => (await m.now()) + DAY;
const balance = async (who: EvmAddress): Promise<bigint> => m.read<bigint>(token, TestToken.abi, "balanceOf", [who]);

beforeAll(async () => {
  m = await startTestMarket();
  token = m.addresses.testToken as EvmAddress;
  // deployMarket deploys the DataPool beside the registry it trusts.
  contract = m.addresses.dataPool ?? ("" as EvmAddress);
  expect(contract).toMatch(/^0x[0-9a-f]{40}$/);
  expect(await m.read<string>(contract, DataPool.abi, "registry", [])).toBe(m.addresses.registry ? getAddress(m.addresses.registry) : "");
  const mk = (a: typeof m.accounts.user): PoolClient => poolClient({ rpcUrl: m.anvil.rpcUrl, chainId: m.chainId, contract, account: a });
  sponsor = mk(m.accounts.user);
  contributor = mk(m.accounts.user2);
  await m.send(m.accounts.user, token, TestToken.abi, "mint", [m.accounts.user.address, 1_000n]);
}, 120_000);

afterAll(async () => {
  await m?.stop();
});

describe("DataPool with the pipeline key bound by the sponsor", () => {
  let poolId: Hex32;

  it("creates and funds a pool", async () => {
    ({ poolId } = await createPool(sponsor, { dataset: "clinic-notes", token, rewardPerUnit: 10n, pipeline: PIPELINE, pipelineKey: enclave.address as EvmAddress, claimUntil: await until() }));
    const { balance: b } = await fundPool(sponsor, poolId, 100n);
    expect(b).toBe(100n);
    await expect(createPool(sponsor, { dataset: "clinic-notes", token, rewardPerUnit: 10n, pipeline: PIPELINE, pipelineKey: enclave.address as EvmAddress, claimUntil: await until() })).rejects.toMatchObject({ code: "POOL_POOL_EXISTS" });
  });

  it("pays a claim exactly once, to the committed address", async () => {
    const c = claimFor(1);
    const r = await claimReward(contributor, poolId, c, payout, SALT);
    expect(r.amount).toBe(30n);
    expect(await balance(payout)).toBe(30n);
    expect(await isClaimed(contributor, c.message.contributionId)).toBe(true);
    // The replay is refused, whoever sends it.
    await expect(claimReward(contributor, poolId, c, payout, SALT)).rejects.toMatchObject({ code: "POOL_ALREADY_CLAIMED" });
    await expect(claimReward(sponsor, poolId, c, payout, SALT)).rejects.toMatchObject({ code: "POOL_ALREADY_CLAIMED" });
    expect(await balance(payout)).toBe(30n);
    expect((await getPool(sponsor, poolId)).balance).toBe(70n);
  });

  it("refuses a claim signed by a key the pool does not trust", async () => {
    await expect(claimReward(contributor, poolId, claimFor(2, {}, createSigner("ecdsa")), payout, SALT)).rejects.toMatchObject({ code: "POOL_UNTRUSTED_SIGNER" });
  });

  it("refuses a tampered claim (more units than signed)", async () => {
    const c = claimFor(3);
    await expect(claimReward(contributor, poolId, { ...c, message: { ...c.message, units: "7" } }, payout, SALT)).rejects.toMatchObject({ code: "POOL_UNTRUSTED_SIGNER" });
  });

  it("pays only the committed payout address", async () => {
    const thief = m.accounts.user2.address.toLowerCase() as EvmAddress;
    await expect(claimReward(contributor, poolId, claimFor(4), thief, SALT)).rejects.toMatchObject({ code: "POOL_PAYOUT_MISMATCH" });
  });

  it("refuses another dataset's or another pipeline's claims", async () => {
    await expect(claimReward(contributor, poolId, claimFor(5, { dataset: "other" }), payout, SALT)).rejects.toMatchObject({ code: "POOL_WRONG_DATASET" });
    await expect(claimReward(contributor, poolId, claimFor(6, { pipeline: `0x${"cd".repeat(32)}` }), payout, SALT)).rejects.toMatchObject({ code: "POOL_WRONG_PIPELINE" });
  });

  it("never pays more than the pool holds", async () => {
    await expect(claimReward(contributor, poolId, claimFor(7, { units: "8" }), payout, SALT)).rejects.toMatchObject({ code: "POOL_POOL_EXHAUSTED" });
    expect((await getPool(sponsor, poolId)).balance).toBe(70n);
    // Exactly what is left still pays.
    expect((await claimReward(contributor, poolId, claimFor(8, { units: "7" }), payout, SALT)).amount).toBe(70n);
    expect((await getPool(sponsor, poolId)).balance).toBe(0n);
  });

  it("refuses, before sending, a claim signed for another contract", async () => {
    const other = `0x${"11".repeat(20)}` as EvmAddress;
    await expect(claimReward(contributor, poolId, claimFor(9, {}, enclave, other), payout, SALT)).rejects.toMatchObject({ code: "POOL_WRONG_DOMAIN" });
  });
});

describe("DataPool trusting the NodeRegistry's attested enclaves", () => {
  it("pays a claim signed by an active registered enclave under the pool's measurements, and no other", async () => {
    await m.registerNode({ enclave: privateKeyToAccount(enclaveKey) });
    const { poolId } = await createPool(sponsor, { dataset: "support-chats", token, rewardPerUnit: 1n, pipeline: PIPELINE, nodeMeasurements: MEASUREMENTS, claimUntil: await until() });
    await fundPool(sponsor, poolId, 10n);
    const ok = claimFor(20, { dataset: "support-chats" });
    expect((await claimReward(contributor, poolId, ok, payout, SALT)).amount).toBe(3n);
    // An enclave the registry does not list.
    await expect(claimReward(contributor, poolId, claimFor(21, { dataset: "support-chats" }, createSigner("ecdsa")), payout, SALT)).rejects.toMatchObject({ code: "POOL_UNTRUSTED_SIGNER" });
    // The same enclave, but the pool names other measurements.
    const { poolId: strict } = await createPool(contributor, { dataset: "support-chats", token, rewardPerUnit: 1n, pipeline: PIPELINE, nodeMeasurements: OTHER_MEASUREMENTS, claimUntil: await until() });
    await m.send(m.accounts.user, token, TestToken.abi, "mint", [m.accounts.user2.address, 10n]);
    await fundPool(contributor, strict, 10n);
    await expect(claimReward(contributor, strict, claimFor(22, { dataset: "support-chats" }), payout, SALT)).rejects.toMatchObject({ code: "POOL_UNTRUSTED_SIGNER" });
  });

  it("refuses a registry-mode pool without a measurement to look enclaves up under", async () => {
    await expect(createPool(sponsor, { dataset: "loose", token, rewardPerUnit: 1n, pipeline: PIPELINE, claimUntil: await until() })).rejects.toMatchObject({ code: "POOL_NO_TRUSTED_KEY" });
  });
});

describe("DataPool claim deadline and the sponsor's withdrawal", () => {
  it("refuses a pool whose deadline has already passed", async () => {
    const past = (await chainTime(sponsor)) - 1n;
    await expect(createPool(sponsor, { dataset: "late", token, rewardPerUnit: 1n, pipeline: PIPELINE, pipelineKey: enclave.address as EvmAddress, claimUntil: past })).rejects.toMatchObject({ code: "POOL_DEADLINE_IN_PAST" });
  });

  it("keeps the money for contributors until the deadline, then pays the sponsor exactly the remainder, once", async () => {
    const sponsorAddr = m.accounts.user.address.toLowerCase() as EvmAddress;
    const deadline = await until();
    const { poolId } = await createPool(sponsor, { dataset: "deadline-notes", token, rewardPerUnit: 5n, pipeline: PIPELINE, pipelineKey: enclave.address as EvmAddress, claimUntil: deadline });
    expect((await getPool(sponsor, poolId)).claimUntil).toBe(deadline);
    await fundPool(sponsor, poolId, 100n);
    const claimAt = (id: number) => claimFor(id, { dataset: "deadline-notes" });
    expect((await claimReward(contributor, poolId, claimAt(40), payout, SALT)).amount).toBe(15n);

    // Before the deadline: nobody withdraws, not even the sponsor.
    await expect(withdrawPool(sponsor, poolId)).rejects.toMatchObject({ code: "POOL_CLAIM_PERIOD_OPEN" });
    // The deadline moves only later.
    await expect(extendClaimDeadline(sponsor, poolId, deadline - 1n)).rejects.toMatchObject({ code: "POOL_DEADLINE_NOT_LATER" });
    await expect(extendClaimDeadline(contributor, poolId, deadline + DAY)).rejects.toMatchObject({ code: "POOL_NOT_SPONSOR" });
    await extendClaimDeadline(sponsor, poolId, deadline + DAY);
    expect((await getPool(sponsor, poolId)).claimUntil).toBe(deadline + DAY);

    // Past the original deadline but within the extension: claims still pay, withdrawal still refused.
    await m.advance(Number(DAY) + 10);
    expect((await claimReward(contributor, poolId, claimAt(41), payout, SALT)).amount).toBe(15n);
    await expect(withdrawPool(sponsor, poolId)).rejects.toMatchObject({ code: "POOL_CLAIM_PERIOD_OPEN" });

    // Past the extended deadline: claims and funding refused, withdrawal for the sponsor only.
    await m.advance(Number(DAY));
    await expect(claimReward(contributor, poolId, claimAt(42), payout, SALT)).rejects.toMatchObject({ code: "POOL_CLAIM_PERIOD_OVER" });
    await expect(fundPool(sponsor, poolId, 1n)).rejects.toMatchObject({ code: "POOL_CLAIM_PERIOD_OVER" });
    await expect(withdrawPool(contributor, poolId)).rejects.toMatchObject({ code: "POOL_NOT_SPONSOR" });
    const before = await balance(sponsorAddr);
    const w = await withdrawPool(sponsor, poolId);
    expect(w.amount).toBe(70n);
    expect(await balance(sponsorAddr)).toBe(before + 70n);
    const after = await getPool(sponsor, poolId);
    expect(after.balance).toBe(0n);
    expect(after.withdrawn).toBe(true);
    const logs = await m.client.getContractEvents({ address: contract, abi: DataPool.abi, eventName: "Withdrawn", args: { poolId }, fromBlock: 0n });
    expect(logs.map((l) => l.args.amount)).toEqual([70n]);

    // Once only; and a closed pool cannot be reopened.
    await expect(withdrawPool(sponsor, poolId)).rejects.toMatchObject({ code: "POOL_ALREADY_WITHDRAWN" });
    await expect(extendClaimDeadline(sponsor, poolId, (await m.now()) + DAY)).rejects.toMatchObject({ code: "POOL_ALREADY_WITHDRAWN" });
    await expect(claimReward(contributor, poolId, claimAt(43), payout, SALT)).rejects.toMatchObject({ code: "POOL_CLAIM_PERIOD_OVER" });
    expect(await balance(sponsorAddr)).toBe(before + 70n);
  });
});
