import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keccak256, stringToBytes, type LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { AgentRequests } from "./contracts/artifacts.js";
import { signResult } from "./sign.js";
import { expectRevert, OTHER_MEASUREMENTS, startTestMarket, MEASUREMENTS, type TestMarket } from "./test-market.js";
import { ZERO_ADDRESS, ZERO_HASH, type EvmAddress, type Hex32 } from "./typed-data.js";

let m: TestMarket;
beforeAll(async () => {
  m = await startTestMarket();
});
afterAll(async () => {
  await m?.stop();
});

const OUTPUT = keccak256(stringToBytes("the answer"));

async function post(policy: Hex32 = ZERO_HASH, deadlineIn = 600n, maxFee = 1_000n): Promise<bigint> {
  const deadline = (await m.now()) + deadlineIn;
  const r = await m.send(m.accounts.user, m.addresses.agentRequests, AgentRequests.abi, "post",
    [keccak256(stringToBytes("agent:summarise")), keccak256(stringToBytes("input")), "0x", policy, ZERO_ADDRESS, maxFee, deadline], maxFee);
  expect(r.status).toBe("success");
  return (await m.read<bigint>(m.addresses.agentRequests, AgentRequests.abi, "nextId", [])) - 1n;
}

async function fulfil(id: bigint, enclave: LocalAccount, fee: bigint, signer: LocalAccount = enclave): Promise<void> {
  const sig = await signResult(signer, { chainId: m.chainId, address: m.addresses.agentRequests }, { requestId: id, enclave: enclave.address, outputHash: OUTPUT, fee });
  await m.send(m.accounts.relayer, m.addresses.agentRequests, AgentRequests.abi, "fulfil", [id, enclave.address, OUTPUT, fee, sig]);
}

const claimable = (who: EvmAddress): Promise<bigint> => m.read<bigint>(m.addresses.agentRequests, AgentRequests.abi, "claimable", [who, ZERO_ADDRESS]);

describe("AgentRequests", () => {
  it("releases the fee to a registered enclave's payout and the rest to the requester", async () => {
    const n = await m.registerNode({ operator: m.accounts.operator2 });
    const id = await post(MEASUREMENTS);
    await fulfil(id, n.enclave, 700n);
    expect(await claimable(m.accounts.operator2.address)).toBe(700n);
    expect(await claimable(m.accounts.user.address)).toBe(300n);
    await expectRevert(fulfil(id, n.enclave, 700n), "NotOpen");
  });

  it("refuses an answer signed by an unregistered key", async () => {
    const id = await post();
    await expectRevert(fulfil(id, privateKeyToAccount(generatePrivateKey()), 1n), "EnclaveNotActive");
  });

  it("refuses an answer whose signature is not the named enclave's", async () => {
    const n = await m.registerNode();
    const id = await post();
    await expectRevert(fulfil(id, n.enclave, 1n, privateKeyToAccount(generatePrivateKey())), "BadSignature");
  });

  it("refuses an answer signed by an expired enclave", async () => {
    const now = await m.now();
    const n = await m.registerNode({ verdict: { notAfter: now + 60n } });
    const id = await post(ZERO_HASH, 3600n);
    await m.advance(120);
    await expectRevert(fulfil(id, n.enclave, 1n), "EnclaveNotActive");
  });

  it("refuses an enclave that does not satisfy the request's policy, and a fee above the maximum", async () => {
    const n = await m.registerNode();
    const id = await post(OTHER_MEASUREMENTS);
    await expectRevert(fulfil(id, n.enclave, 1n), "PolicyNotSatisfied");
    const id2 = await post();
    await expectRevert(fulfil(id2, n.enclave, 1_001n), "FeeTooHigh");
  });

  it("refunds only after the deadline", async () => {
    const id = await post(ZERO_HASH, 100n);
    await expectRevert(m.send(m.accounts.relayer, m.addresses.agentRequests, AgentRequests.abi, "refund", [id]), "BeforeDeadline");
    await m.advance(200);
    const before = await claimable(m.accounts.user.address);
    await m.send(m.accounts.relayer, m.addresses.agentRequests, AgentRequests.abi, "refund", [id]);
    expect((await claimable(m.accounts.user.address)) - before).toBe(1_000n);
    const n = await m.registerNode();
    await expectRevert(fulfil(id, n.enclave, 1n), "NotOpen");
  });
});
