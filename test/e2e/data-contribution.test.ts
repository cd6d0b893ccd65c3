/**
 * End to end: a pipeline on a node (the real gateway, simulator TEE, SQLite store on
 * disk, E2E), two contributors submitting through the verifying client; one is
 * accepted, the other's only record stays risky and is rejected; both get receipts that
 * verify against the attested signer. The raw text is searched for byte for byte in
 * everything the node wrote (logs, metrics, the SQLite files, the sealed dataset) and on
 * the wire. Reward pools and on-chain claims: data-rewards.test.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { contribute } from "../../src/data/contribute.js";
import { createPipeline, PIPELINE_EVENT, type Pipeline } from "../../src/data/pipeline/pipeline.js";
import { verifyClaim, verifyReceipt } from "../../src/data/pipeline/receipt.js";
import { createGateway } from "../../src/gateway/app.js";
import { createMetrics } from "../../src/gateway/metrics.js";
import { startServer, type RunningServer } from "../../src/gateway/server.js";
import { createLogger } from "../../src/log/logger.js";
import { createSigner } from "../../src/seal/signing.js";
import { generateE2EKeyPair } from "../../src/seal/e2e/suite.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import type { Store } from "../../src/store/store.js";
import { fakeBackend } from "./client-fixtures.js";

const SECRET_NAME = "Wacława Adamska";
const SECRET_PHONE = "(415) 555-2671";
const SECRET_NOTE = `Patient ${SECRET_NAME} called from ${SECRET_PHONE} about her migraine follow-up.`;
const RISKY = "internal codes 4829117733109981 and 9981223455671234 for the transfer";

let dir: string;
let server: RunningServer;
let store: Store;
let pipeline: Pipeline;
const logs: string[] = [];
const wire: Uint8Array[] = [];
const metrics = createMetrics();
let url: string;

const recordingFetch: typeof fetch = async (input, init) => {
  if (init?.body instanceof Uint8Array) wire.push(init.body);
  else if (typeof init?.body === "string") wire.push(new TextEncoder().encode(init.body));
  const res = await fetch(input, init);
  const bytes = new Uint8Array(await res.arrayBuffer());
  wire.push(bytes);
  return new Response(bytes, { status: res.status, headers: res.headers });
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cloister-data-e2e-"));
  const signers = { ecdsa: createSigner("ecdsa"), ed25519: createSigner("ed25519") };
  const logger = createLogger({ level: "debug", sink: (l) => logs.push(l) });
  pipeline = createPipeline({ dir: join(dir, "datasets"), signer: signers.ecdsa, logger });
  store = openSqliteStore({ path: join(dir, "node.sqlite") });
  const tee = createSimulatorProvider({ appEvents: [pipeline.rtmr3Event] });
  const app = createGateway({
    backend: fakeBackend(),
    tee,
    store,
    signers,
    authRequired: false,
    e2e: { ...generateE2EKeyPair(), required: true },
    info: { app_name: "cloister-data", version: "test", app_manifest: { data_pipeline: pipeline.appManifestEntry }, compose_hash: null },
    metrics,
    logger,
    data: pipeline.routes,
  });
  server = await startServer(app, { host: "127.0.0.1", port: 0 });
  url = `${server.url}/v1`;
});

afterAll(async () => {
  await server?.close({ drainMs: 100 });
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const key = (n: number): string => n.toString(16).padStart(2, "0").repeat(32);

describe("data contributions end to end", () => {
  it("refuses a simulated pipeline unless allowed, before sending anything", async () => {
    const before = wire.length;
    await expect(contribute({ baseURL: url, dataset: "clinic-notes", records: [{ text: SECRET_NOTE }], contributorKey: key(1), fetch: recordingFetch })).rejects.toMatchObject({ code: "ATTESTATION_FAILED" });
    // Only the attestation report went out and came back: no contribution body.
    expect(wire.slice(before).some((b) => Buffer.from(b).includes(SECRET_NAME))).toBe(false);
  });

  it("refuses a pipeline that runs another cleaner measurement", async () => {
    await expect(
      contribute({ baseURL: url, dataset: "clinic-notes", records: [{ text: SECRET_NOTE }], contributorKey: key(1), allowSimulated: true, expectedPipeline: "00".repeat(32) }),
    ).rejects.toMatchObject({ code: "PIPELINE_NOT_EXPECTED" });
  });

  it("measures the pipeline into RTMR3 and the app manifest", async () => {
    const res = await fetch(`${url}/attestation/report?nonce=${"ab".repeat(32)}`);
    const report = (await res.json()) as { event_log: Array<{ event: string; event_payload: string }>; info: { app_manifest: { data_pipeline: { measurement: string } } } };
    const ev = report.event_log.find((e) => e.event === PIPELINE_EVENT);
    expect(Buffer.from(ev?.event_payload ?? "", "hex").toString()).toBe(pipeline.measurement);
    expect(report.info.app_manifest.data_pipeline.measurement).toBe(pipeline.measurement);
  });

  it("accepts one contributor, rejects the other's risky record, and both receipts verify", async () => {
    const a = await contribute({
      baseURL: url, dataset: "clinic-notes", records: [{ text: SECRET_NOTE }, { text: SECRET_NOTE }], contributorKey: key(1),
      payoutCommitment: key(9), allowSimulated: true, expectedPipeline: pipeline.measurement, fetch: recordingFetch,
    });
    const b = await contribute({ baseURL: url, dataset: "clinic-notes", records: [{ text: RISKY }], contributorKey: key(2), allowSimulated: true, fetch: recordingFetch });

    expect(a.receipt.message.accepted).toBe(true);
    expect(a.receipt.message.recordsKept).toBe(1);
    expect(a.receipt.message.recordsDuplicate).toBe(1);
    expect(a.removed).toMatchObject({ PERSON: 2, PHONE: 2 });
    expect(verifyReceipt(a.receipt, a.signingAddress)).toBe(true);
    expect(a.claim && verifyClaim(a.claim, a.signingAddress)).toBe(true);
    expect(a.claim?.message.units).toBe("1");
    expect(a.claim?.message.payoutCommitment).toBe(`0x${key(9)}`);

    expect(b.receipt.message.accepted).toBe(false);
    expect(b.records[0]).toMatchObject({ status: "rejected" });
    expect(b.records[0]?.reason).toContain("long_number");
    expect(b.claim).toBeNull();
    expect(verifyReceipt(b.receipt, b.signingAddress)).toBe(true);

    // A tampered receipt does not verify.
    const forged = { ...a.receipt, message: { ...a.receipt.message, recordsKept: 2 } };
    expect(verifyReceipt(forged, a.signingAddress)).toBe(false);

    // Pseudonyms: stable per contributor and dataset, different between contributors.
    expect(a.receipt.message.contributor).not.toBe(b.receipt.message.contributor);
    const again = await contribute({ baseURL: url, dataset: "clinic-notes", records: [{ text: "a short and harmless note about the weather" }], contributorKey: key(1), allowSimulated: true });
    expect(again.receipt.message.contributor).toBe(a.receipt.message.contributor);

    // The manifest lists accepted contributions by id and hash; the sealed file opens to the cleaned text.
    const manifest = pipeline.store.manifest("clinic-notes");
    expect(manifest.map((m) => m.contributionId)).toEqual([a.receipt.message.contributionId, again.receipt.message.contributionId]);
    expect(manifest[0]?.keptSha256).toBe(a.receipt.message.keptSha256);
    const opened = Buffer.from(pipeline.store.open("clinic-notes", a.receipt.message.contributionId)).toString();
    expect(opened).toContain("[PERSON_1]");
    expect(opened).not.toContain(SECRET_NAME);
  });

  it("leaves the raw text nowhere: not in logs, metrics, the store, the dataset or on the wire", async () => {
    const res = await fetch(`${server.url}/metrics`);
    const haystacks: Buffer[] = [Buffer.from(logs.join("\n")), Buffer.from(await res.text()), Buffer.from(metrics.render())];
    const walk = (d: string): void => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else haystacks.push(readFileSync(p));
      }
    };
    walk(dir);
    haystacks.push(...wire.map((b) => Buffer.from(b)));
    expect(logs.length).toBeGreaterThan(0);
    expect(wire.length).toBeGreaterThan(0);
    for (const needle of [SECRET_NAME, SECRET_PHONE, "migraine follow-up", "4829117733109981"]) {
      for (const h of haystacks) {
        expect(h.includes(Buffer.from(needle))).toBe(false);
        expect(h.includes(Buffer.from(needle, "utf16le"))).toBe(false);
      }
    }
  });
});
