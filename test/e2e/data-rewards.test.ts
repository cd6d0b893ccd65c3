/**
 * The end to end, on a real anvil: a sponsor attests a pipeline with the
 * verifying client, creates a reward pool bound to its attested key and measurement and
 * funds it; two contributors submit through the verifying client; the pipeline cleans,
 * accepts one contribution and rejects the other's risky record; both get receipts that
 * verify; the accepted contributor claims on chain and is paid exactly once (a second
 * claim is refused), to the address their commitment hid from the pipeline.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { contribute } from "../../src/data/contribute.js";
import { createPipeline, type Pipeline } from "../../src/data/pipeline/pipeline.js";
import { verifyClaim, verifyReceipt } from "../../src/data/pipeline/receipt.js";
import { claimReward, createPool, deployDataPool, fundPool, getPool, payoutCommitment, poolClient } from "../../src/data/rewards/pool.js";
import { createGateway } from "../../src/gateway/app.js";
import { createMetrics } from "../../src/gateway/metrics.js";
import { startServer, type RunningServer } from "../../src/gateway/server.js";
import { TestToken } from "../../src/ledger/contracts/artifacts.js";
import { startTestMarket, type TestMarket } from "../../src/ledger/test-market.js";
import type { EvmAddress, Hex32 } from "../../src/ledger/typed-data.js";
import { createLogger } from "../../src/log/logger.js";
import { generateE2EKeyPair } from "../../src/seal/e2e/suite.js";
import { createSigner } from "../../src/seal/signing.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import type { Store } from "../../src/store/store.js";
import { fakeBackend } from "./client-fixtures.js";

const NOTE = "Patient Wacława Adamska called from (415) 555-2671 about her migraine follow-up.";
const SECOND = "Follow-up for Mr. Johnson Baptiste at 24 Clarke Avenue, Springfield, IL 62704 went well.";
const RISKY = "internal codes 4829117733109981 and 9981223455671234 for the transfer";
const PER_RECORD = 25n;

let m: TestMarket;
let dir: string;
let server: RunningServer;
let store: Store;
let pipeline: Pipeline;
let url: string;
let contract: EvmAddress;
let token: EvmAddress;

beforeAll(async () => {
  m = await startTestMarket();
  token = m.addresses.testToken as EvmAddress;
  contract = await deployDataPool(m.wallet(m.accounts.deployer), m.client, m.addresses.registry);
  dir = mkdtempSync(join(tmpdir(), "cloister-data-rewards-"));
  const signers = { ecdsa: createSigner("ecdsa"), ed25519: createSigner("ed25519") };
  const logger = createLogger({ level: "warn", sink: () => {} });
  // The pipeline signs claims for this chain's DataPool.
  pipeline = createPipeline({ dir: join(dir, "datasets"), signer: signers.ecdsa, logger, rewards: { chainId: m.chainId, pool: contract } });
  store = openSqliteStore({ path: join(dir, "node.sqlite") });
  const app = createGateway({
    backend: fakeBackend(),
    tee: createSimulatorProvider({ appEvents: [pipeline.rtmr3Event] }),
    store,
    signers,
    authRequired: false,
    e2e: { ...generateE2EKeyPair(), required: true },
    info: { app_name: "cloister-data", version: "test", app_manifest: { data_pipeline: pipeline.appManifestEntry }, compose_hash: null },
    metrics: createMetrics(),
    logger,
    data: pipeline.routes,
  });
  server = await startServer(app, { host: "127.0.0.1", port: 0 });
  url = `${server.url}/v1`;
}, 120_000);

afterAll(async () => {
  await server?.close({ drainMs: 100 });
  await store?.close();
  await m?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("data rewards end to end", () => {
  it("a funded pool pays the accepted contributor exactly once and the rejected one nothing", async () => {
    // The sponsor attests the pipeline and binds the pool to its key and measurement.
    const attested = await createVerifiedFetch({ baseURL: url, allowSimulated: true, signingAlgo: "ecdsa" }).attest();
    const sponsor = poolClient({ rpcUrl: m.anvil.rpcUrl, chainId: m.chainId, contract, account: m.accounts.user });
    await m.send(m.accounts.user, token, TestToken.abi, "mint", [m.accounts.user.address, 1_000n]);
    const { poolId } = await createPool(sponsor, {
      dataset: "clinic-notes", token, rewardPerUnit: PER_RECORD, pipeline: pipeline.measurement, pipelineKey: attested.signingAddress as EvmAddress,
      claimUntil: (await m.now()) + 86_400n,
    });
    expect((await fundPool(sponsor, poolId, 1_000n)).balance).toBe(1_000n);

    // Two contributors, each with a payout address only their commitment names.
    const payA = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as EvmAddress;
    const payB = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as EvmAddress;
    const saltA = `0x${"a1".repeat(32)}` as Hex32;
    const saltB = `0x${"b2".repeat(32)}` as Hex32;
    const a = await contribute({
      baseURL: url, dataset: "clinic-notes", records: [{ text: NOTE }, { text: SECOND }], contributorKey: "01".repeat(32),
      payoutCommitment: payoutCommitment(payA, saltA), allowSimulated: true, expectedPipeline: pipeline.measurement,
    });
    const b = await contribute({
      baseURL: url, dataset: "clinic-notes", records: [{ text: RISKY }], contributorKey: "02".repeat(32),
      payoutCommitment: payoutCommitment(payB, saltB), allowSimulated: true, expectedPipeline: pipeline.measurement,
    });

    // Cleaned and accepted / rejected, and both receipts verify against the attested key.
    expect(a.receipt.message.accepted).toBe(true);
    expect(a.receipt.message.recordsKept).toBe(2);
    expect(a.removed).toMatchObject({ PERSON: 2, PHONE: 1, ADDRESS: 1 });
    expect(b.receipt.message.accepted).toBe(false);
    expect(b.records[0]).toMatchObject({ status: "rejected" });
    expect(b.claim).toBeNull();
    expect(verifyReceipt(a.receipt, attested.signingAddress)).toBe(true);
    expect(verifyReceipt(b.receipt, attested.signingAddress)).toBe(true);
    expect(a.claim && verifyClaim(a.claim, attested.signingAddress)).toBe(true);
    expect(a.claim?.domain).toEqual({ name: "Cloister Data", version: "1", chainId: m.chainId, verifyingContract: contract });
    // The pipeline never saw the payout address.
    expect(JSON.stringify(a)).not.toContain(payA.slice(2));

    // The accepted contributor claims (from any account: here the other contributor's wallet pays gas).
    const claimant = poolClient({ rpcUrl: m.anvil.rpcUrl, chainId: m.chainId, contract, account: m.accounts.user2 });
    const claim = a.claim;
    if (!claim) throw new Error("no claim");
    const paid = await claimReward(claimant, poolId, claim, payA, saltA);
    expect(paid.amount).toBe(2n * PER_RECORD);
    expect(await m.read<bigint>(token, TestToken.abi, "balanceOf", [payA])).toBe(2n * PER_RECORD);
    // Exactly once.
    await expect(claimReward(claimant, poolId, claim, payA, saltA)).rejects.toMatchObject({ code: "POOL_ALREADY_CLAIMED" });
    expect(await m.read<bigint>(token, TestToken.abi, "balanceOf", [payA])).toBe(2n * PER_RECORD);
    expect((await getPool(claimant, poolId)).balance).toBe(1_000n - 2n * PER_RECORD);
    // The rejected contributor has nothing to claim with, and their address got nothing.
    expect(await m.read<bigint>(token, TestToken.abi, "balanceOf", [payB])).toBe(0n);
  });
});
