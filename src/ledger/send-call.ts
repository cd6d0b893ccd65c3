/**
 * A contract call sent the way every part of Cloister sends one: simulated first (a
 * revert is named before anything is paid), then sent with a gas limit a fifth above the
 * estimate, and its receipt awaited. Why the margin: an estimate is exact only for the
 * state and block it ran on, and a call mined in another block that runs out by a little
 * reverts and still costs its fee. Seen on anvil: `register` ran out at exactly its
 * estimated 175,377 gas under a full suite's load. Wallets add such a margin for the same
 * reason.
 */
import type { Abi, Account, Chain, PublicClient, TransactionReceipt, Transport, WalletClient } from "viem";

export interface ContractCall {
  readonly address: `0x${string}`;
  readonly abi: Abi;
  readonly functionName: string;
  readonly args: readonly unknown[];
  readonly value?: bigint;
}

/** The gas limit sent for an estimate: a fifth above it. */
export const withGasMargin = (estimate: bigint): bigint => estimate + estimate / 5n;

export async function sendContractCall(client: PublicClient, wallet: WalletClient<Transport, Chain, Account>, call: ContractCall): Promise<TransactionReceipt> {
  const params = { account: wallet.account, address: call.address, abi: call.abi, functionName: call.functionName, args: call.args, ...(call.value ? { value: call.value } : {}) };
  const { request } = await client.simulateContract(params as Parameters<PublicClient["simulateContract"]>[0]);
  const estimate = await client.estimateContractGas(params as Parameters<PublicClient["estimateContractGas"]>[0]);
  const hash = await wallet.writeContract({ ...(request as Parameters<WalletClient<Transport, Chain, Account>["writeContract"]>[0]), gas: withGasMargin(estimate) });
  return client.waitForTransactionReceipt({ hash });
}
