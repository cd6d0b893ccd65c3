/**
 * `cloister up` follows the market configured in its data dir (DATA_DIR/market.json, as
 * `cloister chain start` writes it): the real command, a real local chain (anvil), and
 * GET /v1/nodes answered from its registry indexer. Without a market the route is a 404.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalChain, type LocalChain } from "../../src/ledger/local-chain.js";
import { wireNodeListSchema } from "../../src/ledger/nodes-wire.js";
import { testModelPath } from "../fixtures/tiny-gguf.js";
import { startNode, tempDataDir, type RunningNode } from "./node-harness.js";

let chain: LocalChain;
let node: RunningNode;
let bare: RunningNode;
beforeAll(async () => {
  const dataDir = tempDataDir();
  chain = await startLocalChain({ dataDir });
  const model = await testModelPath();
  node = await startNode(["--model", model, "--no-auth", "--tee", "simulated"], dataDir);
  bare = await startNode(["--model", model, "--no-auth", "--tee", "simulated"]);
});
afterAll(async () => {
  await node?.stop();
  await bare?.stop();
  await chain?.stop();
});

describe("cloister up with a market", () => {
  it("serves GET /v1/nodes from its indexer; a node without a market answers 404", async () => {
    let body: unknown = null;
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${node.url}/v1/nodes?model=stories260K&near=48.85,2.35`);
      expect(res.status).toBe(200);
      body = await res.json();
      if ((body as { indexedBlock: number }).indexedBlock > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const list = wireNodeListSchema.parse(body);
    expect(list.data).toEqual([]);
    expect(list.indexedBlock).toBeGreaterThanOrEqual(Number(chain.market.deployBlock));
    expect((await fetch(`${bare.url}/v1/nodes`)).status).toBe(404);
  });
});
