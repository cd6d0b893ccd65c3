import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSimulatorProvider } from "../../attest/simulator/provider.js";
import { buildAttestationReport } from "../../attest/report/build.js";
import { generateE2EKeyPair } from "../../seal/e2e/suite.js";
import { createSigner } from "../../seal/signing.js";
import { KmsCode, KmsError } from "../codes.js";
import { postBroker } from "../attest-broker.js";
import { fetchModelKey, type NodeIdentity } from "../node/fetch-key.js";
import { uploadShares, updateRegistration } from "../owner/upload.js";
import { localBrokers, ownerKey, registration } from "../test-fixtures.js";
import { openBroker } from "./broker.js";
import { verifyReleaseLog } from "./release-log.js";
import { fileStateKey } from "./state-key.js";
import { join } from "node:path";
import type { PolicyInput } from "../../attest/policy/schema.js";

const info = { app_name: "cloister", version: "test", app_manifest: {}, compose_hash: null };
const node = (): NodeIdentity => ({ tee: createSimulatorProvider({ gpu: false }), signer: createSigner("ecdsa"), info });

async function setup(policy?: PolicyInput, over: Parameters<typeof registration>[2] = {}) {
  const { brokers, fetch } = localBrokers(3);
  const owner = ownerKey();
  const dataKey = randomBytes(32);
  const reg = registration(owner, dataKey, { ...over, ...(policy ? { policy } : {}) });
  const trust = { allowSimulated: true, fetch };
  await uploadShares({ registration: reg, dataKey, brokers: brokers.map((b) => b.url), trust });
  return { brokers, fetch, owner, dataKey, reg, trust, urls: brokers.map((b) => b.url) };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KmsError) return e.code;
    throw e;
  }
  return "OK";
}

/** A release request answered by hand, so the test can tamper with it. */
async function manualRelease(url: string, f: typeof fetch, nodeId: NodeIdentity, tweak: (nonce: string) => Promise<{ nonce: string; reportNonce: string }>) {
  const ch = (await postBroker(url, "/v1/kms/challenge", { model_id: "stories260K" }, f)) as { nonce: string };
  const { nonce, reportNonce } = await tweak(ch.nonce);
  const report = await buildAttestationReport(nodeId.tee, { nonce: Buffer.from(reportNonce, "hex"), signingAlgo: "ecdsa", signingPublicKey: nodeId.signer.publicKey, e2ePublicKey: generateE2EKeyPair().publicKey, info });
  return postBroker(url, "/v1/kms/release", { model_id: "stories260K", nonce, report }, f);
}

describe("key broker", () => {
  it("releases 2-of-3 shares to an attested node that combine into the data key", async () => {
    const s = await setup();
    const k = await fetchModelKey({ brokers: s.urls, modelId: "stories260K", keyId: s.reg.payload.includes("key_id") ? JSON.parse(s.reg.payload).key_id : "", node: node(), trust: s.trust });
    expect(Buffer.from(k.dataKey).equals(s.dataKey)).toBe(true);
    expect(k.leases).toHaveLength(2);
    expect(k.expiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  it("2 of 3 brokers suffice and 1 of 3 does not (KMS_QUORUM_NOT_REACHED)", async () => {
    const s = await setup();
    const keyId = JSON.parse(s.reg.payload).key_id as string;
    const two = await fetchModelKey({ brokers: [s.urls[0]!, "http://down.test", s.urls[2]!], modelId: "stories260K", keyId, node: node(), trust: s.trust });
    expect(Buffer.from(two.dataKey).equals(s.dataKey)).toBe(true);
    expect(await codeOf(fetchModelKey({ brokers: [s.urls[1]!, "http://down.test", "http://down2.test"], modelId: "stories260K", keyId, node: node(), trust: s.trust }))).toBe(KmsCode.KMS_QUORUM_NOT_REACHED);
  });

  it("refuses a node whose measurement is not in the owner's policy (KMS_MEASUREMENT_NOT_ALLOWED)", async () => {
    const s = await setup({ allowSimulated: true, measurements: { mrtd: ["ab".repeat(48)] } });
    const err = await manualRelease(s.urls[0]!, s.fetch, node(), async (n) => ({ nonce: n, reportNonce: n })).catch((e: unknown) => e);
    expect((err as KmsError).code).toBe(KmsCode.KMS_MEASUREMENT_NOT_ALLOWED);
  });

  it("refuses a simulated node under a policy that does not allow it (KMS_SIMULATED_NOT_ALLOWED)", async () => {
    const s = await setup({ allowSimulated: false });
    const err = await manualRelease(s.urls[0]!, s.fetch, node(), async (n) => ({ nonce: n, reportNonce: n })).catch((e: unknown) => e);
    expect((err as KmsError).code).toBe(KmsCode.KMS_SIMULATED_NOT_ALLOWED);
  });

  it("refuses evidence that answers another nonce (KMS_EVIDENCE_NONCE_MISMATCH)", async () => {
    const s = await setup();
    const err = await manualRelease(s.urls[0]!, s.fetch, node(), async (n) => {
      const other = (await postBroker(s.urls[0]!, "/v1/kms/challenge", { model_id: "stories260K" }, s.fetch)) as { nonce: string };
      return { nonce: n, reportNonce: other.nonce };
    }).catch((e: unknown) => e);
    expect((err as KmsError).code).toBe(KmsCode.KMS_EVIDENCE_NONCE_MISMATCH);
  });

  it("refuses a replayed release request (KMS_NONCE_REPLAYED) and one it never challenged (KMS_NONCE_UNKNOWN)", async () => {
    const s = await setup();
    const n = node();
    const ch = (await postBroker(s.urls[0]!, "/v1/kms/challenge", { model_id: "stories260K" }, s.fetch)) as { nonce: string };
    const report = await buildAttestationReport(n.tee, { nonce: Buffer.from(ch.nonce, "hex"), signingAlgo: "ecdsa", signingPublicKey: n.signer.publicKey, e2ePublicKey: generateE2EKeyPair().publicKey, info });
    const body = { model_id: "stories260K", nonce: ch.nonce, report };
    await postBroker(s.urls[0]!, "/v1/kms/release", body, s.fetch);
    expect(await codeOf(postBroker(s.urls[0]!, "/v1/kms/release", body, s.fetch))).toBe(KmsCode.KMS_NONCE_REPLAYED);
    expect(await codeOf(postBroker(s.urls[0]!, "/v1/kms/release", { ...body, nonce: "cd".repeat(32) }, s.fetch))).toBe(KmsCode.KMS_NONCE_UNKNOWN);
  });

  it("refuses a stale release request whose nonce expired (KMS_NONCE_EXPIRED)", async () => {
    let t = Date.now();
    const s = await setup();
    s.brokers[0]!.reopen({ now: () => new Date(t), nonceTtlMs: 1000 });
    const err = await manualRelease(s.urls[0]!, s.fetch, node(), async (n) => {
      t += 5000;
      return { nonce: n, reportNonce: n };
    }).catch((e: unknown) => e);
    expect((err as KmsError).code).toBe(KmsCode.KMS_NONCE_EXPIRED);
  });

  it("refuses a node the owner revoked, from the next request on (KMS_NODE_REVOKED)", async () => {
    const s = await setup();
    const n = node();
    const keyId = JSON.parse(s.reg.payload).key_id as string;
    await fetchModelKey({ brokers: s.urls, modelId: "stories260K", keyId, node: n, trust: s.trust });
    const revoked = registration(s.owner, s.dataKey, { sequence: 2, revoked_nodes: [n.signer.address as `0x${string}`], sealed_sha256: JSON.parse(s.reg.payload).sealed_sha256, plaintext_sha256: JSON.parse(s.reg.payload).plaintext_sha256, split_id: JSON.parse(s.reg.payload).split_id });
    const out = await updateRegistration({ registration: revoked, brokers: s.urls, trust: s.trust });
    expect(out.every((o) => o.ok)).toBe(true);
    const err = await manualRelease(s.urls[0]!, s.fetch, n, async (x) => ({ nonce: x, reportNonce: x })).catch((e: unknown) => e);
    expect((err as KmsError).code).toBe(KmsCode.KMS_NODE_REVOKED);
    expect(await codeOf(fetchModelKey({ brokers: s.urls, modelId: "stories260K", keyId, node: n, trust: s.trust }))).toBe(KmsCode.KMS_QUORUM_NOT_REACHED);
    // Another node is still served; an older registration cannot undo the revocation.
    await fetchModelKey({ brokers: s.urls, modelId: "stories260K", keyId, node: node(), trust: s.trust });
    expect((await updateRegistration({ registration: s.reg, brokers: s.urls, trust: s.trust }))[0]!.code).toBe(KmsCode.KMS_REGISTRATION_STALE);
  });

  it("replaces a lost broker by an owner-approved reshare: a new split to a new set, after which the old split's shares count no more", async () => {
    const { brokers, fetch } = localBrokers(4);
    const trust = { allowSimulated: true, fetch };
    const owner = ownerKey();
    const dataKey = randomBytes(32);
    const first = registration(owner, dataKey);
    const p1 = JSON.parse(first.payload) as Record<string, string>;
    await uploadShares({ registration: first, dataKey, brokers: brokers.slice(0, 3).map((b) => b.url), trust });
    // Broker 2 is lost: the owner signs sequence 2 with a fresh split for brokers 0, 1 and 3.
    const second = registration(owner, dataKey, { sequence: 2, sealed_sha256: p1["sealed_sha256"]!, plaintext_sha256: p1["plaintext_sha256"]! });
    expect(await codeOf(updateRegistration({ registration: second, brokers: [brokers[0]!.url], trust }).then((r) => { if (!r[0]!.ok) throw new KmsError(r[0]!.code as KmsCode, "refused"); }))).toBe(KmsCode.KMS_BAD_REQUEST);
    await uploadShares({ registration: second, dataKey, brokers: [brokers[0]!.url, brokers[1]!.url, brokers[3]!.url], trust });
    const keyId = p1["key_id"]!;
    const k = await fetchModelKey({ brokers: [brokers[3]!.url, brokers[1]!.url], modelId: "stories260K", keyId, node: node(), trust });
    expect(Buffer.from(k.dataKey).equals(dataKey)).toBe(true);
    expect(k.registration.registration.sequence).toBe(2);
    // The lost broker's old share (split 1) does not combine with a share of split 2.
    expect(await codeOf(fetchModelKey({ brokers: [brokers[2]!.url, brokers[0]!.url], modelId: "stories260K", keyId, node: node(), trust }))).toBe(KmsCode.KMS_QUORUM_NOT_REACHED);
  });

  it("refuses a registration update signed by another owner (KMS_SIGNATURE_INVALID)", async () => {
    const s = await setup();
    const thief = registration(ownerKey(), s.dataKey, { sequence: 9, policy: { allowSimulated: true } });
    expect((await updateRegistration({ registration: thief, brokers: s.urls, trust: s.trust }))[0]!.code).toBe(KmsCode.KMS_SIGNATURE_INVALID);
  });

  it("keeps its shares and identity across a restart, sealed under its state key", async () => {
    const s = await setup();
    const keyId = JSON.parse(s.reg.payload).key_id as string;
    const before = s.brokers.map((b) => b.broker.signer.address);
    for (const b of s.brokers) b.reopen();
    expect(s.brokers.map((b) => b.broker.signer.address)).toEqual(before);
    const k = await fetchModelKey({ brokers: s.urls, modelId: "stories260K", keyId, node: node(), trust: s.trust });
    expect(Buffer.from(k.dataKey).equals(s.dataKey)).toBe(true);
    // Another state key does not open the state.
    const b0 = s.brokers[0]!;
    const wrong = join(b0.dataDir, "other.key");
    expect(() => openBroker({ dataDir: b0.dataDir, stateKey: fileStateKey(wrong), tee: createSimulatorProvider() })).toThrow(expect.objectContaining({ code: KmsCode.KMS_STATE_INVALID }));
  });

  it("logs every upload, release and refusal in a signed, hash-chained log", async () => {
    const s = await setup({ allowSimulated: false });
    await manualRelease(s.urls[0]!, s.fetch, node(), async (n) => ({ nonce: n, reportNonce: n })).catch(() => undefined);
    const text = s.brokers[0]!.broker.logText();
    const entries = verifyReleaseLog(text, s.brokers[0]!.broker.signer.address);
    expect(entries.map((e) => e.entry.event)).toEqual(["upload", "refuse"]);
    expect(entries[1]!.entry["code"]).toBe(KmsCode.KMS_SIMULATED_NOT_ALLOWED);
    const lines = text.trim().split("\n");
    expect(() => verifyReleaseLog([lines[1]].join("\n"))).toThrow(expect.objectContaining({ code: KmsCode.KMS_STATE_INVALID }));
  });
});
