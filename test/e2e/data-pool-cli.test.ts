/**
 * The reward commands end to end through the CLI, on a real anvil: `data pool deploy`,
 * `data up --pool-contract`, `data contribute --payout`, `data pool create|fund|show`,
 * `data claim` (paid once; the second claim fails).
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
  it("deploys, creates and funds a pool, and a contributor's claim is paid once", async () => {
    const sponsorEnv = { CLOISTER_CHAIN_KEY: ANVIL_KEYS[3] as string };
    const dep = io(sponsorEnv);
    expect(await main(["data", "pool", "deploy", "--json"], dep)).toBe(0);
    const contract = (JSON.parse(dep.lines[0] ?? "{}") as { contract: string }).contract;

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
    expect(await main(["data", "pool", "create", "--pool-contract", contract, "--dataset", "support", "--token", m.addresses.testToken ?? "", "--per-record", "7", "--pipeline", measurement, "--pipeline-key", key, "--json"], create)).toBe(0);
    const poolId = (JSON.parse(create.lines[0] ?? "{}") as { poolId: string }).poolId;
    const fund = io(sponsorEnv);
    expect(await main(["data", "pool", "fund", poolId, "100", "--pool-contract", contract], fund)).toBe(0);
    expect(fund.lines.join("\n")).toContain("pool balance 100");

    const payout = privateKeyToAccount(generatePrivateKey()).address.toLowerCase();
    writeFileSync(join(dir, "notes.jsonl"), `${JSON.stringify({ text: "Call John Smith at (415) 555-2671 about the invoice." })}\n`);
    const c = io();
    expect(await main(["data", "contribute", "notes.jsonl", "--url", url, "--dataset", "support", "--allow-simulated", "--expect", measurement, "--payout", payout, "--receipt-out", "r.json"], c)).toBe(0);
    expect(c.lines.join("\n")).toContain("claim saved to");

    const claimEnv = { CLOISTER_CHAIN_KEY: ANVIL_KEYS[4] as string };
    const claim = io(claimEnv);
    expect(await main(["data", "claim", "r.json", "--pool-contract", contract, "--pool", poolId], claim)).toBe(0);
    expect(claim.lines.join("\n")).toContain(`claimed 7 to ${payout}`);
    const again = io(claimEnv);
    expect(await main(["data", "claim", "r.json", "--pool-contract", contract, "--pool", poolId], again)).toBe(1);
    expect(again.errs.join("\n")).toContain("POOL_ALREADY_CLAIMED");
    const show = io();
    expect(await main(["data", "pool", "show", poolId, "--pool-contract", contract], show)).toBe(0);
    expect(show.lines.join("\n")).toContain("balance 93");
    expect(await m.read<bigint>(m.addresses.testToken as `0x${string}`, TestToken.abi, "balanceOf", [payout])).toBe(7n);
    stop.abort();
    expect(await running).toBe(0);
  });
});
