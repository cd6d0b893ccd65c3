import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPublicClient as viemPublicClient, http as viemHttp, keccak256, stringToBytes } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { ANVIL_KEYS } from "../../ledger/anvil.js";
import { createEvmChain } from "../../ledger/evm-chain.js";
import { parseMarketFile, readMarketFile, type MarketFile } from "../../ledger/market-file.js";
import { DataPool } from "../../ledger/contracts/artifacts.js";
import { quorumEvidence, signRegistration } from "../../ledger/sign.js";
import { modelId, ZERO_HASH } from "../../ledger/typed-data.js";
import { chainCommand } from "./chain.js";
import { escrowCommand, nodesCommand } from "./escrow.js";
import type { CliIO } from "../io.js";

function io(env: NodeJS.ProcessEnv = {}, signal?: AbortSignal): CliIO & { lines: string[]; errs: string[] } {
  const lines: string[] = [];
  const errs: string[] = [];
  return { out: (t) => lines.push(t), err: (t) => errs.push(t), env, cwd: process.cwd(), lines, errs, ...(signal ? { signal } : {}) };
}

let dir: string;
let stop: AbortController;
let running: Promise<number>;
let market: MarketFile;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cloister-chain-"));
  stop = new AbortController();
  const out = io({}, stop.signal);
  running = chainCommand(["start", "--data-dir", dir, "--json"], out);
  for (let i = 0; i < 600 && out.lines.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  market = parseMarketFile(JSON.parse(out.lines[0] ?? "null"));
});
afterAll(async () => {
  stop?.abort();
  await running;
  rmSync(dir, { recursive: true, force: true });
});

describe("cloister chain start / escrow / nodes", () => {
  it("prints a market whose contracts are deployed at the printed addresses", async () => {
    expect(market.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const chain = createEvmChain({ rpcUrl: market.rpcUrl, chainId: market.chainId, addresses: market.addresses });
    expect(await chain.getNode(privateKeyToAccount(generatePrivateKey()).address)).toBeNull();
  });

  it("deploys a DataPool trusting the market's registry and names it in market.json", async () => {
    const written = readMarketFile(join(dir, "market.json"));
    expect(written.addresses.dataPool).toMatch(/^0x[0-9a-f]{40}$/);
    expect(written.addresses.dataPool).toBe(market.addresses.dataPool);
    const pc = viemPublicClient({ transport: viemHttp(market.rpcUrl) });
    const registry = await pc.readContract({ address: written.addresses.dataPool ?? "0x", abi: DataPool.abi, functionName: "registry" });
    expect(registry.toLowerCase()).toBe(market.addresses.registry);
  });

  it("deposits, shows the balance and signs a permit the escrow accepts as the user's", async () => {
    const env = { CLOISTER_CHAIN_KEY: ANVIL_KEYS[3], CLOISTER_DATA_DIR: dir };
    expect(await escrowCommand(["deposit", "12345"], io(env))).toBe(0);
    const b = io(env);
    expect(await escrowCommand(["balance", "--json"], b)).toBe(0);
    expect(JSON.parse(b.lines[0] ?? "{}").balance).toBe("12345");
    const enclave = privateKeyToAccount(generatePrivateKey()).address;
    const p = io(env);
    expect(await escrowCommand(["permit", "--node", enclave, "--max", "1000"], p)).toBe(0);
    const permit = JSON.parse(p.lines.join("\n"));
    expect(permit.permit.user).toBe(privateKeyToAccount(ANVIL_KEYS[3]).address.toLowerCase());
    expect(permit.id).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it("refuses a deposit without a key, and bad amounts, with usage errors", async () => {
    const noKey = io({ CLOISTER_DATA_DIR: dir });
    expect(await escrowCommand(["deposit", "5"], noKey)).toBe(1);
    expect(noKey.errs.join()).toContain("NO_ACCOUNT");
    expect(await escrowCommand(["deposit", "-5"], io({ CLOISTER_DATA_DIR: dir }))).toBe(2);
  });

  it("lists a node registered through the local quorum, nearest first", async () => {
    const chain = createEvmChain({ rpcUrl: market.rpcUrl, chainId: market.chainId, addresses: market.addresses, account: privateKeyToAccount(ANVIL_KEYS[1]) });
    const verifier = privateKeyToAccount((await import("node:fs")).readFileSync(join(dir, "local-verifier.key"), "utf8").trim() as `0x${string}`);
    // The local chain allows only the measurements its owner added; add one for this node.
    const { MeasurementPolicy } = await import("../../ledger/contracts/artifacts.js");
    const measurements = keccak256(stringToBytes("local image"));
    const { createWalletClient, createPublicClient, http, defineChain } = await import("viem");
    const vc = defineChain({ id: market.chainId, name: "anvil", nativeCurrency: { name: "E", symbol: "E", decimals: 18 }, rpcUrls: { default: { http: [market.rpcUrl] } } });
    const w = createWalletClient({ account: privateKeyToAccount(ANVIL_KEYS[0]), chain: vc, transport: http(market.rpcUrl) });
    const pc = createPublicClient({ chain: vc, transport: http(market.rpcUrl) });
    await pc.waitForTransactionReceipt({ hash: await w.writeContract({ address: market.addresses.policy, abi: MeasurementPolicy.abi, functionName: "proposeMeasurement", args: [measurements] }) });
    await pc.request({ method: "evm_increaseTime" as never, params: [2 * 86400 + 1] as never });
    await pc.waitForTransactionReceipt({ hash: await w.writeContract({ address: market.addresses.policy, abi: MeasurementPolicy.abi, functionName: "activateMeasurement", args: [measurements] }) });

    const enclave = privateKeyToAccount(generatePrivateKey());
    const t = await chain.chainTime();
    const verdict = { enclave: enclave.address, attestationDigest: keccak256(stringToBytes("ev")), measurementsDigest: measurements, gpuEvidenceDigest: ZERO_HASH, tcbStatus: 0, notAfter: t + 86400n, simulated: true, issuedAt: t };
    const reg = {
      enclave: enclave.address, operator: privateKeyToAccount(ANVIL_KEYS[1]).address, payout: privateKeyToAccount(ANVIL_KEYS[1]).address,
      endpoint: "http://127.0.0.1:9", region: "eu-central", latE6: 50_110_000, lonE6: 8_680_000,
      attestationDigest: verdict.attestationDigest, measurementsDigest: measurements, gpuEvidenceDigest: ZERO_HASH,
      prices: [{ model: modelId("stories260K"), promptPerMTok: 1n, completionPerMTok: 2n }], nonce: 0n, deadline: t + 600n,
    };
    const sig = await signRegistration(enclave, { chainId: market.chainId, address: market.addresses.registry }, reg);
    await chain.register(reg, sig, market.addresses.quorum, await quorumEvidence([verifier], { chainId: market.chainId, address: market.addresses.quorum }, verdict));
    const out = io({ CLOISTER_DATA_DIR: dir });
    expect(await nodesCommand(["--model", "stories260K", "--near", "48.85,2.35", "--json"], out)).toBe(0);
    // The same shape as GET /v1/nodes.
    const list = JSON.parse(out.lines.join("\n")).data;
    expect(list).toHaveLength(1);
    expect(list[0].enclave).toBe(enclave.address.toLowerCase());
    expect(list[0].distanceKm).toBeGreaterThan(400);
    const none = io({ CLOISTER_DATA_DIR: dir });
    expect(await nodesCommand(["--model", "other-model", "--json"], none)).toBe(0);
    expect(JSON.parse(none.lines.join("\n")).data).toHaveLength(0);
  });
});
