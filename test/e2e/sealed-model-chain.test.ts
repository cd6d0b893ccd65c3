/**
 * Sealed models on the market's chain: a real anvil with the contracts deployed (the
 * embedded local chain, market.json), three `cloister kms up --market` brokers as processes,
 * the owner's commands in-process, and a simulated node asking for the key over loopback.
 * The brokers read the owner's policy from the chain (the document whose digest is there),
 * honour on-chain revocation within one lease, and log each release as a KeyReleased event.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { ANVIL_KEYS } from "../../src/ledger/anvil.js";
import { Escrow } from "../../src/ledger/contracts/artifacts.js";
import { startLocalChain, type LocalChain } from "../../src/ledger/local-chain.js";
import { modelId } from "../../src/ledger/typed-data.js";
import { createModelChain, type ModelChain } from "../../src/kms/chain/model-registry.js";
import { KmsCode, KmsError } from "../../src/kms/codes.js";
import { fetchModelKey, type NodeIdentity } from "../../src/kms/node/fetch-key.js";
import { keepLease } from "../../src/kms/node/lease-keeper.js";
import { SIM_MRTD } from "../../src/kms/test-fixtures.js";
import { createSigner } from "../../src/seal/signing.js";
import { createPublicClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { BROKER_READY, cli, spawnCli, type Child } from "./sealed-processes.js";

const MODEL = "chain-sealed-model";
const LEASE_S = 8;
const info = { app_name: "cloister", version: "test", app_manifest: {}, compose_hash: null };
const newNode = (): NodeIdentity => ({ tee: createSimulatorProvider({ gpu: false }), signer: createSigner("ecdsa"), info });
const ALLOW = { allowSimulated: true, measurements: { mrtd: [SIM_MRTD] } };
const DENY = { allowSimulated: false, measurements: { mrtd: [SIM_MRTD] } };

describe("sealed models on chain (real anvil, brokers as processes)", () => {
  const work = mkdtempSync(join(tmpdir(), "cloister-sealed-chain-"));
  const brokers: Child[] = [];
  let urls: string[] = [];
  let local: LocalChain;
  let chain: ModelChain;
  let keyId = "";
  const market = join(work, "chain", "market.json");
  const sealed = join(work, "model.sealed");

  const run = async (args: string[]): Promise<string> => {
    const r = await cli(args, work);
    if (r.code !== 0) throw new Error(`cloister ${args.join(" ")} failed: ${r.err}`);
    return r.out;
  };
  const policyFile = (name: string, p: unknown): string => {
    writeFileSync(join(work, name), JSON.stringify(p));
    return name;
  };
  /** The owner signs the next registration; with `onChain` also registers it on chain. */
  const register = (out: string, policy: string, o: { previous?: string; onChain: boolean }): Promise<string> =>
    run([
      "model", "register", "--sealed", sealed, "--owner-key", "owner.key", "--policy", policy, "--price", "1000000", "--royalty-bps", "2000",
      "--lease-seconds", String(LEASE_S), "--out", out, ...(o.previous ? ["--previous", o.previous] : []),
      ...(o.onChain ? ["--chain", "--market", market, "--kms", urls.join(","), "--allow-simulated-kms"] : []),
    ]);
  const update = (reg: string) => cli(["model", "update", "--registration", reg, "--kms", urls.join(","), "--allow-simulated-kms"], work);
  const fetchKey = (node: NodeIdentity) => fetchModelKey({ brokers: urls, modelId: MODEL, keyId, node, trust: { allowSimulated: true } });
  const refusalCodes = async (node: NodeIdentity): Promise<string[]> => {
    try {
      await fetchKey(node);
    } catch (e) {
      if (e instanceof KmsError && e.code === KmsCode.KMS_QUORUM_NOT_REACHED) return (e.details?.["refusals"] as string[]).slice().sort();
      throw e;
    }
    return ["RELEASED"];
  };
  const docDigest = (reg: string): string => createHash("sha256").update(JSON.parse(readFileSync(join(work, reg), "utf8")).payload as string).digest("hex");

  beforeAll(async () => {
    local = await startLocalChain({ dataDir: join(work, "chain") });
    chain = createModelChain({ market: local.market });
    // Each broker pays for its release events from its own account (no shared nonce).
    for (const i of [1, 2, 3]) {
      const dir = join(work, `broker-${i}`);
      brokers.push(await spawnCli(["kms", "up", "--port", "0", "--tee", "simulated", "--data-dir", dir, "--market", market], BROKER_READY, { CLOISTER_CHAIN_KEY: ANVIL_KEYS[i]! }));
    }
    urls = brokers.map((b) => b.url);
    // The owner key is a funded anvil account: it sends the registration itself.
    writeFileSync(join(work, "owner.key"), `${ANVIL_KEYS[5]!.slice(2)}\n`, { mode: 0o600 });
    writeFileSync(join(work, "weights.gguf"), randomBytes(200_000));
    await run(["model", "seal", "weights.gguf", "--out", sealed, "--model-id", MODEL]);
    keyId = (JSON.parse(await run(["model", "inspect", sealed])) as { header: { key_id: string } }).header.key_id;
    await register("reg1.json", policyFile("allow.json", ALLOW), { onChain: true });
    await run(["model", "upload", "--registration", "reg1.json", "--key", `${sealed}.key`, "--kms", urls.join(","), "--allow-simulated-kms"]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.stop()));
    await local?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("registers the model on chain: owner, hashes, price, royalty share, brokers, the document's digest, and the escrow's royalty", async () => {
    const m = await chain.model(MODEL);
    const doc = JSON.parse(JSON.parse(readFileSync(join(work, "reg1.json"), "utf8")).payload as string) as { owner: string; plaintext_sha256: string; sealed_sha256: string };
    expect(m).toMatchObject({ owner: doc.owner, sequence: 1n, royaltyBps: 2000, pricePerMTok: 1_000_000n, policyDigest: `0x${docDigest("reg1.json")}`, plaintextSha256: `0x${doc.plaintext_sha256}`, sealedSha256: `0x${doc.sealed_sha256}` });
    const addrs = brokers.map((b) => /broker=(0x[0-9a-f]{40})/.exec(b.out())![1]!);
    for (const a of addrs) expect(await chain.isBroker(MODEL, a)).toBe(true);
    const client = createPublicClient({ transport: http(local.market.rpcUrl) });
    const [owner, bps] = (await client.readContract({ address: local.market.addresses.escrow, abi: Escrow.abi, functionName: "models", args: [modelId(MODEL)] })) as readonly [string, number];
    expect([owner.toLowerCase(), bps]).toEqual([doc.owner, 2000]);
  });

  it("releases under the on-chain policy, and each release is one KeyReleased event signed by a listed broker", async () => {
    const node = newNode();
    const before = (await chain.releases(MODEL)).length;
    const k = await fetchKey(node);
    expect(Buffer.from(k.dataKey).equals(Buffer.from(readFileSync(`${sealed}.key`, "utf8").trim(), "hex"))).toBe(true);
    const events = (await chain.releases(MODEL)).slice(before);
    // All three brokers released (2 are needed): three events, one per broker and share.
    expect(events).toHaveLength(3);
    const addrs = brokers.map((b) => /broker=(0x[0-9a-f]{40})/.exec(b.out())![1]!).sort();
    expect(events.map((e) => e.broker).sort()).toEqual(addrs);
    expect(new Set(events.map((e) => e.shareIndex))).toEqual(new Set([1, 2, 3]));
    for (const e of events) expect(e).toMatchObject({ node: node.signer.address, sequence: 1n, policyDigest: `0x${docDigest("reg1.json")}` });
    // The lease the node holds is the one logged (the event carries its hash and end).
    for (const l of k.leases) expect(events.some((e) => e.shareIndex === l.share_index && e.expiresAt === BigInt(Math.floor(Date.parse(l.expires_at) / 1000)))).toBe(true);
  });

  it("refuses a registration document that does not match the on-chain digest (KMS_POLICY_DIGEST_MISMATCH), at update and at release", async () => {
    // A newer document the owner signed but never put on chain: brokers will not take it.
    await register("reg2-offchain.json", "allow.json", { previous: "reg1.json", onChain: false });
    const off = await update("reg2-offchain.json");
    expect(off.code).not.toBe(0);
    expect(off.out).toContain(KmsCode.KMS_POLICY_DIGEST_MISMATCH);
    // On chain now: sequence 2 with a policy that denies simulated nodes; the brokers
    // still hold sequence 1, whose digest is no longer on chain, so they release nothing.
    const before = (await chain.releases(MODEL)).length;
    await register("reg2.json", policyFile("deny.json", DENY), { previous: "reg1.json", onChain: true });
    expect(await refusalCodes(newNode())).toEqual([KmsCode.KMS_POLICY_DIGEST_MISMATCH, KmsCode.KMS_POLICY_DIGEST_MISMATCH, KmsCode.KMS_POLICY_DIGEST_MISMATCH]);
    expect(await chain.releases(MODEL)).toHaveLength(before);
  });

  it("the on-chain policy denies a node it does not allow (KMS_SIMULATED_NOT_ALLOWED), and nothing is logged on chain", async () => {
    const before = (await chain.releases(MODEL)).length;
    expect((await update("reg2.json")).code).toBe(0);
    expect(await refusalCodes(newNode())).toEqual([KmsCode.KMS_SIMULATED_NOT_ALLOWED, KmsCode.KMS_SIMULATED_NOT_ALLOWED, KmsCode.KMS_SIMULATED_NOT_ALLOWED]);
    expect(await chain.releases(MODEL)).toHaveLength(before);
  });

  it("an on-chain revocation takes effect within one lease: the node's renewals are refused and its lease runs out", async () => {
    await register("reg3.json", "allow.json", { previous: "reg2.json", onChain: true });
    expect((await update("reg3.json")).code).toBe(0);
    const node = newNode();
    const first = await fetchKey(node);
    first.dataKey.fill(0);
    const renewals: string[] = [];
    const keeper = keepLease(first.expiresAt, () => fetchKey(node), { retryMs: 500, onRenewFailed: (e) => renewals.push(e instanceof KmsError ? e.code : "?") });
    const revokedAt = Date.now();
    await run(["model", "revoke", "--model-id", MODEL, "--node", node.signer.address, "--owner-key", "owner.key", "--market", market]);
    expect(await chain.isRevoked(MODEL, node.signer.address)).toBe(true);
    const why = await keeper.expired;
    expect(why.code).toBe(KmsCode.KMS_LEASE_EXPIRED);
    // The key is gone no later than one lease after the revocation (plus the retry step).
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(LEASE_S * 1000 + 1500);
    expect(renewals.length).toBeGreaterThan(0);
    expect(await refusalCodes(node)).toEqual([KmsCode.KMS_NODE_REVOKED, KmsCode.KMS_NODE_REVOKED, KmsCode.KMS_NODE_REVOKED]);
    // Another node is unaffected, and no event ever names the revoked node after the revocation.
    const other = await fetchKey(newNode());
    other.dataKey.fill(0);
    const after = (await chain.releases(MODEL)).filter((e) => e.node === node.signer.address);
    expect(after).toHaveLength(3); // the first fetch's three releases only
  }, 60_000);

  it("a broker the owner delisted on chain releases nothing (KMS_BROKER_NOT_LISTED): no event, no share", async () => {
    const owner = createModelChain({ market: local.market, account: privateKeyToAccount(ANVIL_KEYS[5]!) });
    const delisted = /broker=(0x[0-9a-f]{40})/.exec(brokers[0]!.out())![1]! as `0x${string}`;
    await owner.setBroker(MODEL, delisted, false);
    const before = (await chain.releases(MODEL)).length;
    const node = newNode();
    const k = await fetchKey(node);
    k.dataKey.fill(0);
    expect(k.refusals.map((r) => [r.broker, r.code])).toEqual([[urls[0], KmsCode.KMS_BROKER_NOT_LISTED]]);
    const events = (await chain.releases(MODEL)).slice(before);
    expect(events).toHaveLength(2);
    expect(events.map((e) => e.broker)).not.toContain(delisted);
  });
});
