/**
 * The market's costs on a real anvil: gas per call (a table), receipts settled per
 * transaction and gas per receipt in a batch (goal < 30k), and discovery over 100,000
 * indexed nodes (goal < 5 ms), as a ratio to a bare scan of the same array.
 */
import { keccak256, stringToBytes } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { AgentRequests, Escrow, TestToken } from "../src/ledger/contracts/artifacts.js";
import type { NodeRecord } from "../src/ledger/chain.js";
import { createNodeIndex } from "../src/ledger/node-index.js";
import { rankNodes } from "../src/ledger/discovery.js";
import { signResult } from "../src/ledger/sign.js";
import { makePermit, makeReceipt, settlementArg } from "../src/ledger/test-escrow.js";
import { MODEL, startTestMarket } from "../src/ledger/test-market.js";
import { modelId, ZERO_ADDRESS, ZERO_HASH, type EvmAddress } from "../src/ledger/typed-data.js";
import { fmt, mean, percentile, timeIt } from "./stats.js";

const BATCH = 50;

export async function run(): Promise<void> {
  const m = await startTestMarket();
  try {
    const gas: [string, bigint][] = [];
    const a = m.accounts;
    const n = await m.registerNode();
    gas.push(["register (2-of-3 quorum verdict, 1 price)", n.receipt.gasUsed]);
    gas.push(["refresh (same node, fresh evidence)", (await m.registerNode({ enclave: n.enclave })).receipt.gasUsed]);
    await m.send(a.modelOwner, m.addresses.escrow, Escrow.abi, "setModel", [MODEL, a.modelOwner.address, 1000]);
    gas.push(["depositNative", (await m.send(a.user, m.addresses.escrow, Escrow.abi, "depositNative", [], 10n ** 18n)).gasUsed]);
    const token = m.addresses.testToken as EvmAddress;
    await m.send(a.user, token, TestToken.abi, "mint", [a.user.address, 10n ** 24n]);
    await m.send(a.user, token, TestToken.abi, "approve", [m.addresses.escrow, 10n ** 24n]);
    gas.push(["deposit (ERC-20)", (await m.send(a.user, m.addresses.escrow, Escrow.abi, "deposit", [token, 10n ** 20n])).gasUsed]);
    gas.push(["stake", (await m.send(a.operator, m.addresses.escrow, Escrow.abi, "stake", [], 10n ** 16n)).gasUsed]);

    const p = await makePermit(m, a.user, { node: n.enclave.address, maxAmount: 10n ** 18n });
    const first = settlementArg(p, await makeReceipt(m, n.enclave, p, { seq: 1n, cumulative: 1_000n }));
    gas.push(["settle: first receipt on a permit", (await m.send(a.relayer, m.addresses.escrow, Escrow.abi, "settle", [first])).gasUsed]);
    const next = settlementArg(p, await makeReceipt(m, n.enclave, p, { seq: 1_000n, cumulative: 999_000n }));
    const laterGas = (await m.send(a.relayer, m.addresses.escrow, Escrow.abi, "settle", [next])).gasUsed;
    gas.push(["settle: a later receipt (covers requests 2..1000)", laterGas]);

    // A batch over BATCH channels already opened (the steady state of a node settling hourly).
    const permits = [];
    for (let i = 0; i < BATCH; i++) permits.push(await makePermit(m, a.user, { node: n.enclave.address, maxAmount: 10n ** 18n }));
    const open = [];
    for (const q of permits) open.push(settlementArg(q, await makeReceipt(m, n.enclave, q, { seq: 1n, cumulative: 10n })));
    const openTx = await m.send(a.relayer, m.addresses.escrow, Escrow.abi, "settleBatch", [open]);
    // Later receipts on open channels in batches of 1, 10 and BATCH (each round a higher seq).
    const perBatch: [number, bigint][] = [];
    let seq = 2n;
    for (const size of [1, 10, BATCH]) {
      const steady = [];
      for (const q of permits.slice(0, size)) steady.push(settlementArg(q, await makeReceipt(m, n.enclave, q, { seq, cumulative: 1_000n * seq })));
      perBatch.push([size, (await m.send(a.relayer, m.addresses.escrow, Escrow.abi, "settleBatch", [steady])).gasUsed]);
      seq++;
    }
    const steadyGas = perBatch[perBatch.length - 1]![1];
    gas.push([`settleBatch: ${BATCH} first receipts (new permits)`, openTx.gasUsed]);
    gas.push([`settleBatch: ${BATCH} later receipts (open channels)`, steadyGas]);

    const x = await makeReceipt(m, n.enclave, p, { seq: 5_000n, cumulative: 1n, tag: "x" });
    const y = await makeReceipt(m, n.enclave, p, { seq: 5_000n, cumulative: 1n, tag: "y" });
    gas.push(["slash (two receipts, one seq)", (await m.send(a.relayer, m.addresses.escrow, Escrow.abi, "slash", [x.receipt, x.signature, y.receipt, y.signature])).gasUsed]);
    const n2 = await m.registerNode({ operator: a.operator2 });
    const deadline = (await m.now()) + 600n;
    const post = await m.send(a.user, m.addresses.agentRequests, AgentRequests.abi, "post", [keccak256(stringToBytes("agent")), ZERO_HASH, "0x", ZERO_HASH, ZERO_ADDRESS, 1_000n, deadline], 1_000n);
    gas.push(["AgentRequests.post (native)", post.gasUsed]);
    const out = keccak256(stringToBytes("out"));
    const sig = await signResult(n2.enclave, { chainId: m.chainId, address: m.addresses.agentRequests }, { requestId: 1n, enclave: n2.enclave.address, outputHash: out, fee: 600n });
    gas.push(["AgentRequests.fulfil", (await m.send(a.relayer, m.addresses.agentRequests, AgentRequests.abi, "fulfil", [1n, n2.enclave.address, out, 600n, sig])).gasUsed]);

    console.log("| call | gas |\n|---|---:|");
    for (const [name, g] of gas) console.log(`| ${name} | ${g.toLocaleString("en-US")} |`);
    const perNew = openTx.gasUsed / BigInt(BATCH);
    const perOpen = steadyGas / BigInt(BATCH);
    console.log("\n| receipts in the batch (open channels) | tx gas | gas per receipt |\n|---:|---:|---:|");
    for (const [size, g] of perBatch) console.log(`| ${size} | ${g.toLocaleString("en-US")} | ${(g / BigInt(size)).toLocaleString("en-US")} |`);
    console.log(`\nreceipts per settlement tx: ${BATCH} (any number of requests per receipt: cumulative amounts)`);
    console.log(`gas per receipt in a batch: ${perOpen.toLocaleString("en-US")} on open channels (goal < 30,000: ${perOpen < 30_000n ? "met" : "NOT met"}), ${perNew.toLocaleString("en-US")} when each opens a new permit`);
    console.log(`gas per request when one receipt covers 1,000 requests: ${(laterGas / 999n).toLocaleString("en-US")}`);
  } finally {
    await m.stop();
  }

  // Discovery over 100,000 nodes.
  const N = 100_000;
  const models = Array.from({ length: 20 }, (_, i) => modelId(`model-${i}`));
  const nodes: NodeRecord[] = [];
  let seed = 42;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < N; i++) {
    const enclave = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as EvmAddress;
    nodes.push({
      enclave, operator: enclave, payout: enclave, endpoint: `https://n${i}.example`, region: "r", lat: rnd() * 180 - 90, lon: rnd() * 360 - 180,
      measurementsDigest: ZERO_HASH, gpuEvidenceDigest: ZERO_HASH, attestationDigest: ZERO_HASH, tcbStatus: 0, simulated: false,
      expiresAt: 10n ** 12n, priceVersion: 1, prices: [{ model: models[i % models.length]!, promptPerMTok: 1n, completionPerMTok: 1n }],
    });
    if (i === 2_000) break; // generating 100k keys is slow; the rest reuse addresses below
  }
  while (nodes.length < N) {
    const b = nodes[nodes.length % 2_001]!;
    nodes.push({ ...b, enclave: `0x${nodes.length.toString(16).padStart(40, "0")}` as EvmAddress, lat: rnd() * 180 - 90, lon: rnd() * 360 - 180, prices: [{ model: models[nodes.length % models.length]!, promptPerMTok: 1n, completionPerMTok: 1n }] });
  }
  const index = createNodeIndex();
  for (const x of nodes) index.upsert(x);
  const near = { lat: 48.85, lon: 2.35 };
  const now = 1n;
  const scan = await timeIt(30, () => nodes.reduce((c, x) => c + (x.expiresAt > now ? 1 : 0), 0));
  const linear = await timeIt(10, () => rankNodes(nodes, { model: models[3]!, near, nowSeconds: now }).slice(0, 10));
  await timeIt(50, () => index.nearest({ model: models[3]!, near, nowSeconds: now, limit: 10 })); // warm-up (JIT)
  const indexed = await timeIt(200, () => index.nearest({ model: models[3]!, near, nowSeconds: now, limit: 10 }));
  const check = index.nearest({ model: models[3]!, near, nowSeconds: now, limit: 10 }).map((c) => c.node.enclave);
  const truth = rankNodes(nodes, { model: models[3]!, near, nowSeconds: now }).slice(0, 10).map((c) => c.node.enclave);
  if (check.join() !== truth.join()) throw new Error("index disagrees with the linear ranking");
  console.log(`\ndiscovery, ${N.toLocaleString("en-US")} indexed nodes, 20 models, 10 nearest for one model:`);
  console.log(`  baseline (bare scan of the array): mean ${fmt(mean(scan))}`);
  console.log(`  linear filter + sort: mean ${fmt(mean(linear))} (${(mean(linear) / mean(scan)).toFixed(1)}x baseline)`);
  console.log(`  latitude-band index: mean ${fmt(mean(indexed))}, p50 ${fmt(percentile(indexed, 50))}, p99 ${fmt(percentile(indexed, 99))} (${(mean(indexed) / mean(scan)).toFixed(2)}x baseline; goal < 5 ms: ${percentile(indexed, 99) < 5 ? "met" : "NOT met"})`);
}
