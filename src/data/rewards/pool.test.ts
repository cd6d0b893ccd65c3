/**
 * DataPool on a real anvil (the market deployed by the ledger's test fixture): a sponsor
 * creates and funds a pool; claims signed by the pipeline's enclave key pay once, to the
 * committed address, never more than the pool holds; every forgery is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { TestToken } from "../../ledger/contracts/artifacts.js";
import { MEASUREMENTS, OTHER_MEASUREMENTS, startTestMarket, type TestMarket } from "../../ledger/test-market.js";
import type { EvmAddress, Hex32 } from "../../ledger/typed-data.js";
import { createSigner } from "../../seal/signing.js";
import { fromHex } from "../../util/bytes.js";
import { poolDomain, signClaim, type RewardClaim } from "../pipeline/receipt.js";
import { claimReward, createPool, deployDataPool, fundPool, getPool, isClaimed, payoutCommitment, poolClient, type PoolClient } from "./pool.js";

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

const balance = async (who: EvmAddress): Promise<bigint> => m.read<bigint>(token, TestToken.abi, "balanceOf", [who]);

beforeAll(async () => {
  m = await startTestMarket();
  token = m.addresses.testToken as EvmAddress;
  contract = await deployDataPool(m.wallet(m.accounts.deployer), m.client, m.addresses.registry);
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
    ({ poolId } = await createPool(sponsor, { dataset: "clinic-notes", token, rewardPerUnit: 10n, pipeline: PIPELINE, pipelineKey: enclave.address as EvmAddress }));
    const { balance: b } = await fundPool(sponsor, poolId, 100n);
    expect(b).toBe(100n);
    await expect(createPool(sponsor, { dataset: "clinic-notes", token, rewardPerUnit: 10n, pipeline: PIPELINE, pipelineKey: enclave.address as EvmAddress })).rejects.toMatchObject({ code: "POOL_POOL_EXISTS" });
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
    const { poolId } = await createPool(sponsor, { dataset: "support-chats", token, rewardPerUnit: 1n, pipeline: PIPELINE, nodeMeasurements: MEASUREMENTS });
    await fundPool(sponsor, poolId, 10n);
    const ok = claimFor(20, { dataset: "support-chats" });
    expect((await claimReward(contributor, poolId, ok, payout, SALT)).amount).toBe(3n);
    // An enclave the registry does not list.
    await expect(claimReward(contributor, poolId, claimFor(21, { dataset: "support-chats" }, createSigner("ecdsa")), payout, SALT)).rejects.toMatchObject({ code: "POOL_UNTRUSTED_SIGNER" });
    // The same enclave, but the pool names other measurements.
    const { poolId: strict } = await createPool(contributor, { dataset: "support-chats", token, rewardPerUnit: 1n, pipeline: PIPELINE, nodeMeasurements: OTHER_MEASUREMENTS });
    await m.send(m.accounts.user, token, TestToken.abi, "mint", [m.accounts.user2.address, 10n]);
    await fundPool(contributor, strict, 10n);
    await expect(claimReward(contributor, strict, claimFor(22, { dataset: "support-chats" }), payout, SALT)).rejects.toMatchObject({ code: "POOL_UNTRUSTED_SIGNER" });
  });

  it("refuses a registry-mode pool without a measurement to look enclaves up under", async () => {
    await expect(createPool(sponsor, { dataset: "loose", token, rewardPerUnit: 1n, pipeline: PIPELINE })).rejects.toMatchObject({ code: "POOL_NO_TRUSTED_KEY" });
  });
});
