/**
 * `cloister chain start --data-dir` keeps its deployment across restarts; a market.json
 * kept from before DataPool was part of the market gets one deployed on the next start.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createPublicClient, http } from "viem";
import { DataPool } from "./contracts/artifacts.js";
import { startLocalChain } from "./local-chain.js";
import { readMarketFile } from "./market-file.js";

const dir = mkdtempSync(join(tmpdir(), "cloister-local-chain-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("local chain restarts", () => {
  it("reuses the deployment and adds a DataPool to a market file that lacks one", async () => {
    const first = await startLocalChain({ dataDir: dir, verifierService: false });
    const registry = first.market.addresses.registry;
    expect(first.reused).toBe(false);
    await first.stop();
    // The market file as an older version wrote it: no dataPool.
    const path = join(dir, "market.json");
    const json = JSON.parse(readFileSync(path, "utf8")) as { addresses: Record<string, unknown> };
    delete json.addresses["dataPool"];
    writeFileSync(path, JSON.stringify(json));

    const second = await startLocalChain({ dataDir: dir, verifierService: false });
    try {
      expect(second.reused).toBe(true);
      expect(second.market.addresses.registry).toBe(registry);
      const pool = readMarketFile(path).addresses.dataPool;
      expect(pool).toMatch(/^0x[0-9a-f]{40}$/);
      const pc = createPublicClient({ transport: http(second.anvil.rpcUrl) });
      expect((await pc.readContract({ address: pool ?? "0x", abi: DataPool.abi, functionName: "registry" })).toLowerCase()).toBe(registry);
    } finally {
      await second.stop();
    }
  });
});
