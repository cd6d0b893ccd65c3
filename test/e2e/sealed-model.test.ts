/**
 * Sealed models end to end, every party a real process on loopback: an owner seals
 * stories260K and uploads 2-of-3 shares to three `cloister kms up` brokers; `cloister up
 * --model X.sealed --kms …` fetches the key with its evidence, serves from memory; a user
 * calls it through the verifying client and gets what the plain model says.
 */
import { readFileSync, writeFileSync, mkdtempSync, mkdirSync, rmSync, type Dirent } from "node:fs";
import { lstat, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { buildAttestationReport } from "../../src/attest/report/build.js";
import { createCloisterClient } from "../../src/client/cloister-client.js";
import { postBroker } from "../../src/kms/attest-broker.js";
import { verifyReleaseLog } from "../../src/kms/broker/release-log.js";
import { KmsCode, KmsError } from "../../src/kms/codes.js";
import { SIM_MRTD } from "../../src/kms/test-fixtures.js";
import { generateE2EKeyPair } from "../../src/seal/e2e/suite.js";
import { createSigner } from "../../src/seal/signing.js";
import { sharedPath } from "../../src/util/shared.js";
import { BROKER_READY, cli, NODE_READY, spawnCli, type Child } from "./sealed-processes.js";

const stories = sharedPath("models", "stories260K.gguf");
/** Short enough that the stale-request test can wait it out; nodes answer a challenge within milliseconds. */
const NONCE_TTL_MS = 3000;
/** The revocation test's lease: short, but longer than a node start on a loaded machine. */
const LEASE_S = 12;
const PROMPT = [{ role: "user" as const, content: "Once upon a time" }];

/** Folders a search of the shared temp dir skips when they were there before the test (CI's own clone can sit under /tmp). */
const PRUNED = new Set(["node_modules", ".git"]);

/**
 * Every regular file under `dir` (links not followed) changed at or after `since` that
 * holds one of `needles`. Asynchronous on purpose: a synchronous walk of a big /tmp held
 * the test worker for minutes, so not even the test's own timeout could fire.
 */
async function filesContaining(dir: string, needles: Buffer[], since = 0, depth = 0): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const hits: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    const st = await lstat(p).catch(() => null);
    if (!st) continue;
    const changed = Math.max(st.mtimeMs, st.ctimeMs) >= since;
    if (st.isDirectory()) {
      if (depth < 12 && (changed || !PRUNED.has(e.name))) hits.push(...(await filesContaining(p, needles, since, depth + 1)));
    } else if (st.isFile() && changed && st.size >= 256 && st.size < 2 ** 31) {
      // unreadable (another user's file): not ours
      const bytes = await readFile(p).catch(() => null);
      if (bytes && needles.some((n) => bytes.includes(n))) hits.push(p);
    }
  }
  return hits;
}

describe.skipIf(!stories)(`sealed model served from brokers and nodes as processes${stories ? "" : " (skipped: ../shared missing)"}`, () => {
  const work = mkdtempSync(join(tmpdir(), "cloister-sealed-e2e-"));
  const brokerDirs = [0, 1, 2].map((i) => join(work, `broker-${i}`));
  const brokers: Child[] = [];
  const children: Child[] = [];
  let urls: string[] = [];
  const sealedPath = join(work, "stories.sealed");
  const run = async (args: string[]): Promise<string> => {
    const r = await cli(args, work);
    if (r.code !== 0) throw new Error(`cloister ${args.join(" ")} failed: ${r.err}`);
    return r.out;
  };
  const startBroker = (i: number): Promise<Child> => spawnCli(["kms", "up", "--port", "0", "--tee", "simulated", "--data-dir", brokerDirs[i]!, "--nonce-ttl-ms", String(NONCE_TTL_MS)], BROKER_READY);
  const startNode = (model: string, kms: string[], dataDir = mkdtempSync(join(work, "node-")), env: Record<string, string> = {}) =>
    spawnCli(["up", "--model", model, "--kms", kms.join(","), "--kms-allow-simulated", "--tee", "simulated", "--no-auth", "--port", "0", "--data-dir", dataDir, "--threads", "1"], NODE_READY, env);
  const seal = async (id: string, policy: unknown, leaseSeconds = 600): Promise<{ sealed: string; reg: string }> => {
    const sealed = join(work, `${id}.sealed`);
    await run(["model", "seal", stories!, "--out", sealed, "--model-id", id]);
    writeFileSync(join(work, `${id}.policy.json`), JSON.stringify(policy));
    const reg = join(work, `${id}.reg.json`);
    await run(["model", "register", "--sealed", sealed, "--owner-key", "owner.key", "--policy", `${id}.policy.json`, "--price", "1000000", "--royalty", "200000", "--lease-seconds", String(leaseSeconds), "--out", reg]);
    await run(["model", "upload", "--registration", reg, "--key", `${sealed}.key`, "--kms", urls.join(","), "--allow-simulated-kms"]);
    return { sealed, reg };
  };

  beforeAll(async () => {
    for (const i of [0, 1, 2]) brokers.push(await startBroker(i));
    urls = brokers.map((b) => b.url);
    await run(["model", "keygen", "--out", "owner.key"]);
    await run(["model", "seal", stories!, "--out", sealedPath, "--model-id", "stories260K"]);
    writeFileSync(join(work, "policy.json"), JSON.stringify({ allowSimulated: true, measurements: { mrtd: [SIM_MRTD] } }));
    await run(["model", "register", "--sealed", sealedPath, "--owner-key", "owner.key", "--policy", "policy.json", "--price", "1000000", "--royalty", "200000", "--lease-seconds", "600", "--out", "reg.json"]);
    await run(["model", "upload", "--registration", "reg.json", "--key", `${sealedPath}.key`, "--kms", urls.join(","), "--allow-simulated-kms"]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...children, ...brokers].map((c) => c.stop()));
    rmSync(work, { recursive: true, force: true });
  });

  it("serves the sealed model with the same text as the plain one at temperature 0, names it in the report, and never writes the weights to disk", async () => {
    const since = Date.now() - 1000;
    const nodeDir = mkdtempSync(join(work, "node-"));
    // The node's own temp dir, searched in full; the shared one only for what changed during the test.
    const nodeTmp = join(work, "node-tmp");
    mkdirSync(nodeTmp);
    const sealedNode = await startNode(sealedPath, urls, nodeDir, { TMPDIR: nodeTmp });
    children.push(sealedNode);
    const plainNode = await spawnCli(["up", "--model", stories!, "--tee", "simulated", "--no-auth", "--port", "0", "--data-dir", mkdtempSync(join(work, "plain-")), "--threads", "1"], NODE_READY);
    children.push(plainNode);
    const ask = async (url: string, model: string): Promise<string> => {
      const client = createCloisterClient({ baseURL: `${url}/v1`, allowSimulated: true });
      const r = await client.chat.completions.create({ model, messages: PROMPT, temperature: 0, max_tokens: 40 });
      return r.choices[0]!.message.content;
    };
    const sealedText = await ask(sealedNode.url, "stories260K");
    expect(sealedText.length).toBeGreaterThan(10);
    expect(sealedText).toBe(await ask(plainNode.url, "stories260K"));

    const report = (await (await fetch(`${sealedNode.url}/v1/attestation/report?nonce=${"ab".repeat(32)}`)).json()) as { info: { app_manifest: { models: { sealed: Record<string, unknown> }[] } } };
    const named = report.info.app_manifest.models[0]!.sealed;
    const reg = JSON.parse(JSON.parse(readFileSync(join(work, "reg.json"), "utf8")).payload) as Record<string, unknown>;
    expect(named).toMatchObject({ model_id: "stories260K", plaintext_sha256: reg["plaintext_sha256"], sealed_sha256: reg["sealed_sha256"], owner: reg["owner"], royalty: reg["royalty"] });

    // Byte-for-byte: windows of the plaintext weights, searched in the node's data dir,
    // the temp dir and the sealed file's folder, while serving and after stopping.
    const weights = readFileSync(stories!);
    const needles = [weights.subarray(4096, 4096 + 256), weights.subarray(weights.length >> 1, (weights.length >> 1) + 256), weights.subarray(weights.length - 512, weights.length - 256)];
    const search = async (): Promise<string[]> => [...(await filesContaining(work, needles)), ...(await filesContaining(tmpdir(), needles, since))].filter((p) => !p.startsWith("/work/shared"));
    expect(await search()).toEqual([]);
    expect(await sealedNode.stop()).toBe(0);
    expect(await search()).toEqual([]);
  }, 180_000);

  it("2 of 3 brokers suffice and 1 of 3 does not (KMS_QUORUM_NOT_REACHED)", async () => {
    const down = "http://127.0.0.1:9";
    const two = await startNode(sealedPath, [urls[0]!, down, urls[2]!]);
    children.push(two);
    expect(two.out()).toContain("key from 2 of 3 brokers");
    await two.stop();
    const one = await startNode(sealedPath, [down, urls[1]!, "http://127.0.0.1:7"]).early;
    expect(one.code).not.toBe(0);
    expect(one.err).toContain(KmsCode.KMS_QUORUM_NOT_REACHED);
  });

  it("a broker restarted on its data dir keeps its identity and its shares", async () => {
    const before = /broker=(0x[0-9a-f]{40})/.exec(brokers[1]!.out())![1];
    await brokers[1]!.stop();
    brokers[1] = await startBroker(1);
    urls[1] = brokers[1].url;
    expect(/broker=(0x[0-9a-f]{40})/.exec(brokers[1].out())![1]).toBe(before);
    // Only brokers 1 and 2: the restarted broker's share is needed.
    const n = await startNode(sealedPath, [urls[1]!, urls[2]!]);
    children.push(n);
    expect(n.out()).toContain("key from 2 of 2 brokers");
    await n.stop();
  });

  it("refuses a node with an unlisted measurement (KMS_MEASUREMENT_NOT_ALLOWED) and a simulated node under a policy that disallows it (KMS_SIMULATED_NOT_ALLOWED)", async () => {
    const other = await seal("unlisted", { allowSimulated: true, measurements: { mrtd: ["ab".repeat(48)] } });
    const r1 = await startNode(other.sealed, urls).early;
    expect(r1.code).not.toBe(0);
    expect(r1.err).toContain(KmsCode.KMS_MEASUREMENT_NOT_ALLOWED);
    const noSim = await seal("nosim", { allowSimulated: false, measurements: { mrtd: [SIM_MRTD] } });
    const r2 = await startNode(noSim.sealed, urls).early;
    expect(r2.code).not.toBe(0);
    expect(r2.err).toContain(KmsCode.KMS_SIMULATED_NOT_ALLOWED);
  });

  it("refuses replayed, unknown-nonce, other-nonce and stale (expired-nonce) release requests over HTTP, each logged", async () => {
    const tee = createSimulatorProvider({ gpu: false });
    const signer = createSigner("ecdsa");
    const info = { app_name: "cloister", version: "test", app_manifest: {}, compose_hash: null };
    const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => "OK", (e: unknown) => (e instanceof KmsError ? e.code : String(e)));
    const challenge = async (): Promise<string> => ((await postBroker(urls[0]!, "/v1/kms/challenge", { model_id: "stories260K" })) as { nonce: string }).nonce;
    const evidence = (nonce: string) => buildAttestationReport(tee, { nonce: Buffer.from(nonce, "hex"), signingAlgo: "ecdsa", signingPublicKey: signer.publicKey, e2ePublicKey: generateE2EKeyPair().publicKey, info });
    const n1 = await challenge();
    const body = { model_id: "stories260K", nonce: n1, report: await evidence(n1) };
    expect(await codeOf(postBroker(urls[0]!, "/v1/kms/release", body))).toBe("OK");
    expect(await codeOf(postBroker(urls[0]!, "/v1/kms/release", body))).toBe(KmsCode.KMS_NONCE_REPLAYED);
    const n2 = await challenge();
    const n3 = await challenge();
    expect(await codeOf(postBroker(urls[0]!, "/v1/kms/release", { model_id: "stories260K", nonce: n2, report: await evidence(n3) }))).toBe(KmsCode.KMS_EVIDENCE_NONCE_MISMATCH);
    expect(await codeOf(postBroker(urls[0]!, "/v1/kms/release", { ...body, nonce: "cd".repeat(32) }))).toBe(KmsCode.KMS_NONCE_UNKNOWN);
    const n4 = await challenge();
    const stale = { model_id: "stories260K", nonce: n4, report: await evidence(n4) };
    await new Promise((r) => setTimeout(r, NONCE_TTL_MS + 500));
    expect(await codeOf(postBroker(urls[0]!, "/v1/kms/release", stale))).toBe(KmsCode.KMS_NONCE_EXPIRED);
    const log = verifyReleaseLog(await (await fetch(`${urls[0]}/v1/kms/log`)).text());
    expect(log.map((e) => e.entry["code"] ?? e.entry.event).slice(-5)).toEqual(["release", KmsCode.KMS_NONCE_REPLAYED, KmsCode.KMS_EVIDENCE_NONCE_MISMATCH, KmsCode.KMS_NONCE_UNKNOWN, KmsCode.KMS_NONCE_EXPIRED]);
  });

  it("stops a revoked node when its lease runs out (KMS_NODE_REVOKED, then KMS_LEASE_EXPIRED)", async () => {
    const short = await seal("short-lease", { allowSimulated: true, measurements: { mrtd: [SIM_MRTD] } }, LEASE_S);
    const n = await startNode(short.sealed, urls);
    children.push(n);
    const address = /signing address (0x[0-9a-f]{40})/.exec(n.out())![1]!;
    await run(["model", "register", "--sealed", short.sealed, "--owner-key", "owner.key", "--policy", "short-lease.policy.json", "--lease-seconds", String(LEASE_S), "--previous", short.reg, "--revoke", address, "--out", "short-lease.reg2.json"]);
    await run(["model", "update", "--registration", "short-lease.reg2.json", "--kms", urls.join(","), "--allow-simulated-kms"]);
    const code = await n.exited;
    expect(code).toBe(1);
    expect(n.err()).toContain(KmsCode.KMS_LEASE_EXPIRED);
    expect(n.err()).toContain(KmsCode.KMS_QUORUM_NOT_REACHED);
    const log = verifyReleaseLog(await (await fetch(`${urls[0]}/v1/kms/log`)).text());
    expect(log.some((e) => e.entry["code"] === KmsCode.KMS_NODE_REVOKED && e.entry["node"] === address)).toBe(true);
  });
});
