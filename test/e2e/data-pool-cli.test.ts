/**
 * The reward commands end to end through the CLI, on a real anvil whose market file names
 * the DataPool (as `cloister chain start` writes it): `data up --pool-contract`, `data
 * contribute --payout`, `data pool create|fund|show|withdraw` and `data claim` with no
 * --pool-contract (paid once; the second claim fails; the sponsor withdraws the remainder
 * only after the claim deadline, once), and `data pool deploy` + --pool-contract overriding
 * the market file's.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIO } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";
import { TestToken } from "../../src/ledger/contracts/artifacts.js";
import { writeMarketFile } from "../../src/ledger/market-file.js";
import { ANVIL_KEYS } from "../../src/ledger/anvil.js";
import { startTestMarket, type TestMarket } from "../../src/ledger/test-market.js";

const dir = mkdtempSync(join(tmpdir(), "cloister-data-pool-cli-"));
let m: TestMarket;

function io(env: Record<string, string> = {}, signal?: AbortSignal): CliIO & { lines: string[]; errs: string[] } {
  const lines: string[] = [];
  const errs: string[] = [];
  return { lines, errs, out: (t) => lines.push(t), err: (t) => errs.push(t), env: { HOME: dir, CLOISTER_MARKET: join(dir, "market.json"), ...env }, cwd: dir, ...(signal ? { signal } : {}) };
}

beforeAll(async () => {
  m = await startTestMarket();
  writeMarketFile(join(dir, "market.json"), { version: 1, chainId: m.chainId, rpcUrl: m.anvil.rpcUrl, deployBlock: 0n, simulatedAllowed: true, addresses: m.addresses });
  await m.send(m.accounts.user, m.addresses.testToken as `0x${string}`, TestToken.abi, "mint", [m.accounts.user.address, 500n]);
}, 120_000);

afterAll(async () => {
  await m?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("cloister data pool / claim", () => {
  const sponsorEnv = { CLOISTER_CHAIN_KEY: ANVIL_KEYS[3] as string };
  const sponsor = privateKeyToAccount(ANVIL_KEYS[3] as `0x${string}`).address;

  it("creates and funds a pool on the market's DataPool; a contributor's claim is paid once; the sponsor withdraws the rest after the deadline", async () => {
    const contract = m.addresses.dataPool ?? "";
    expect(contract).toMatch(/^0x[0-9a-f]{40}$/);

    const stop = new AbortController();
    const up = io({}, stop.signal);
    const running = main(["data", "up", "--tee", "simulated", "--port", "0", "--data-dir", join(dir, "node"), "--pool-contract", contract, "--pool-chain-id", String(m.chainId)], up);
    let text = "";
    for (let i = 0; i < 1200 && !/pipeline measurement/.test(text); i++) {
      await new Promise((r) => setTimeout(r, 25));
      text = up.lines.join("\n");
    }
    const url = /pipeline at (\S+)\/data/.exec(text)?.[1] ?? "";
    const key = /signing address (0x[0-9a-f]{40})/.exec(text)?.[1] ?? "";
    const measurement = /pipeline measurement ([0-9a-f]{64})/.exec(text)?.[1] ?? "";

    const create = io(sponsorEnv);
    const start = await m.now();
    expect(await main(["data", "pool", "create", "--dataset", "support", "--token", m.addresses.testToken ?? "", "--per-record", "7", "--pipeline", measurement, "--pipeline-key", key, "--claim-until", "+2d", "--json"], create)).toBe(0);
    const created = JSON.parse(create.lines[0] ?? "{}") as { poolId: string; contract: string; claimUntil: string };
    const poolId = created.poolId;
    expect(created.contract).toBe(contract);
    // +2d is counted from the chain's clock (the latest block), which the contract compares with.
    expect(BigInt(created.claimUntil) - start).toBeGreaterThanOrEqual(2n * 86_400n);
    expect(BigInt(created.claimUntil) - start).toBeLessThan(2n * 86_400n + 600n);
    const fund = io(sponsorEnv);
    expect(await main(["data", "pool", "fund", poolId, "100"], fund)).toBe(0);
    expect(fund.lines.join("\n")).toContain("pool balance 100");

    const payout = privateKeyToAccount(generatePrivateKey()).address.toLowerCase();
    writeFileSync(join(dir, "notes.jsonl"), `${JSON.stringify({ text: "Call John Smith at (415) 555-2671 about the invoice." })}\n`);
    const c = io();
    expect(await main(["data", "contribute", "notes.jsonl", "--url", url, "--dataset", "support", "--allow-simulated", "--expect", measurement, "--payout", payout, "--receipt-out", "r.json"], c)).toBe(0);
    expect(c.lines.join("\n")).toContain("claim saved to");

    const claimEnv = { CLOISTER_CHAIN_KEY: ANVIL_KEYS[4] as string };
    const claim = io(claimEnv);
    expect(await main(["data", "claim", "r.json", "--pool", poolId], claim)).toBe(0);
    expect(claim.lines.join("\n")).toContain(`claimed 7 to ${payout}`);
    const again = io(claimEnv);
    expect(await main(["data", "claim", "r.json", "--pool", poolId], again)).toBe(1);
    expect(again.errs.join("\n")).toContain("POOL_ALREADY_CLAIMED");
    const show = io();
    expect(await main(["data", "pool", "show", poolId], show)).toBe(0);
    expect(show.lines.join("\n")).toContain("balance 93");
    expect(show.lines.join("\n")).toContain(`claims until ${new Date(Number(created.claimUntil) * 1000).toISOString()}: open for claims`);
    expect(await m.read<bigint>(m.addresses.testToken as `0x${string}`, TestToken.abi, "balanceOf", [payout])).toBe(7n);
    stop.abort();
    expect(await running).toBe(0);

    // The sponsor cannot take the balance while contributors may still claim.
    const early = io(sponsorEnv);
    expect(await main(["data", "pool", "withdraw", poolId], early)).toBe(1);
    expect(early.errs.join("\n")).toContain("POOL_CLAIM_PERIOD_OPEN");
    await m.advance(2 * 86_400 + 60);
    const closedShow = io();
    expect(await main(["data", "pool", "show", poolId], closedShow)).toBe(0);
    expect(closedShow.lines.join("\n")).toContain("claim period over");
    const other = io(claimEnv);
    expect(await main(["data", "pool", "withdraw", poolId], other)).toBe(1);
    expect(other.errs.join("\n")).toContain("POOL_NOT_SPONSOR");
    const before = await m.read<bigint>(m.addresses.testToken as `0x${string}`, TestToken.abi, "balanceOf", [sponsor]);
    const w = io(sponsorEnv);
    expect(await main(["data", "pool", "withdraw", poolId], w)).toBe(0);
    expect(w.lines.join("\n")).toContain("withdrew 93 to the sponsor");
    expect(await m.read<bigint>(m.addresses.testToken as `0x${string}`, TestToken.abi, "balanceOf", [sponsor])).toBe(before + 93n);
    const twice = io(sponsorEnv);
    expect(await main(["data", "pool", "withdraw", poolId], twice)).toBe(1);
    expect(twice.errs.join("\n")).toContain("POOL_ALREADY_WITHDRAWN");
  });

  it("--pool-contract overrides the market file's DataPool, and a market file without one says so", async () => {
    const dep = io(sponsorEnv);
    expect(await main(["data", "pool", "deploy", "--json"], dep)).toBe(0);
    const contract = (JSON.parse(dep.lines[0] ?? "{}") as { contract: string }).contract;
    expect(contract).not.toBe(m.addresses.dataPool);
    const create = io(sponsorEnv);
    const pipelineKey = privateKeyToAccount(generatePrivateKey()).address;
    expect(await main(["data", "pool", "create", "--pool-contract", contract, "--dataset", "other", "--token", m.addresses.testToken ?? "", "--per-record", "1", "--pipeline", "ab".repeat(32), "--pipeline-key", pipelineKey, "--claim-until", "2100-01-01", "--json"], create)).toBe(0);
    const poolId = (JSON.parse(create.lines[0] ?? "{}") as { poolId: string }).poolId;
    const there = io();
    expect(await main(["data", "pool", "show", poolId, "--pool-contract", contract], there)).toBe(0);
    expect(there.lines.join("\n")).toContain("claims until 2100-01-01T00:00:00.000Z");
    // The same id on the market's own DataPool: no such pool there.
    const notThere = io();
    expect(await main(["data", "pool", "show", poolId], notThere)).toBe(1);
    expect(notThere.errs.join("\n")).toContain("POOL_UNKNOWN");

    const { dataPool: _omitted, ...older } = m.addresses;
    writeMarketFile(join(dir, "old-market.json"), { version: 1, chainId: m.chainId, rpcUrl: m.anvil.rpcUrl, deployBlock: 0n, simulatedAllowed: true, addresses: older });
    const old = io({ CLOISTER_MARKET: join(dir, "old-market.json") });
    expect(await main(["data", "pool", "show", poolId], old)).toBe(1);
    expect(old.errs.join("\n")).toContain("POOL_CONTRACT_MISSING");
    const oldOverride = io({ CLOISTER_MARKET: join(dir, "old-market.json") });
    expect(await main(["data", "pool", "show", poolId, "--pool-contract", contract], oldOverride)).toBe(0);
  });
});
