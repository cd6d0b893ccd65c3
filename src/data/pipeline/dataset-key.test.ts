/**
 * The dataset key held by key brokers (src/kms, in process through their real apps):
 * the pipeline fetches it at boot once its measurement is in RTMR3; a training job the
 * dataset's policy lists gets the same key and opens the sealed records; a job the policy
 * does not list, or a pipeline running another measurement, is refused by every broker.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { replayRtmrs } from "../../attest/eventlog/replay.js";
import { createSimulatorProvider } from "../../attest/simulator/provider.js";
import { KmsError } from "../../kms/codes.js";
import { localBrokers, ownerKey } from "../../kms/test-fixtures.js";
import { createLogger } from "../../log/logger.js";
import { createSigner } from "../../seal/signing.js";
import { utf8 } from "../../util/bytes.js";
import { contribute } from "../contribute.js";
import { startDataNode } from "../node.js";
import { fetchDatasetKey, shareDatasetKey, TRAINING_JOB_EVENT } from "./dataset-key.js";
import { describeDefaultPipeline, PIPELINE_EVENT } from "./pipeline.js";
import { openRecords } from "./sealed-store.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const rtmr3 = (events: Array<{ event: string; payload: Uint8Array }>): string => replayRtmrs(createSimulatorProvider({ appEvents: events, gpu: false }).eventLog())[3] ?? "";
const job = (measurement: string) => ({
  tee: createSimulatorProvider({ gpu: false, appEvents: [{ event: TRAINING_JOB_EVENT, payload: utf8.encode(measurement) }] }),
  signer: createSigner("ecdsa"),
  info: { app_name: "trainer", version: "test", app_manifest: {}, compose_hash: null },
});

async function refusal(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KmsError) return [e.code, ...((e.details as { refusals?: string[] } | undefined)?.refusals ?? [])];
    throw e;
  }
  return ["OK"];
}

describe("dataset key through the key brokers", () => {
  it("seals with the broker-held key and releases it only to training jobs the policy lists", async () => {
    const { brokers, fetch } = localBrokers(3);
    const urls = brokers.map((b) => b.url);
    const trust = { allowSimulated: true, fetch };
    const pipelineRtmr3 = rtmr3([{ event: PIPELINE_EVENT, payload: utf8.encode(describeDefaultPipeline().measurement) }]);
    const jobRtmr3 = rtmr3([{ event: TRAINING_JOB_EVENT, payload: utf8.encode("trainer-v1") }]);
    const datasetKey = new Uint8Array(randomBytes(32));
    const { keyId } = await shareDatasetKey({
      owner: ownerKey(), dataset: "clinic-notes", datasetKey, brokers: urls, threshold: 2, trust,
      policy: { allowSimulated: true, measurements: { rtmr3: [pipelineRtmr3, jobRtmr3] } },
    });

    const dataDir = mkdtempSync(join(tmpdir(), "cloister-dataset-key-"));
    dirs.push(dataDir);
    const node = await startDataNode({
      tee: createSimulatorProvider({ gpu: false }), dataDir, host: "127.0.0.1", port: 0, auth: false,
      logger: createLogger({ level: "error", sink: () => {} }), datasetKeyFrom: { brokers: urls, dataset: "clinic-notes", keyId, trust },
    });
    try {
      const r = await contribute({ baseURL: `${node.url}/v1`, dataset: "clinic-notes", records: [{ text: "Call John Smith at (415) 555-2671 today." }], contributorKey: "01".repeat(32), allowSimulated: true });
      expect(r.receipt.message.accepted).toBe(true);
      const id = r.receipt.message.contributionId;

      // The listed training job gets the same key and opens the sealed file on disk.
      const jobKey = await fetchDatasetKey({ brokers: urls, dataset: "clinic-notes", keyId, node: job("trainer-v1"), trust });
      expect(Buffer.from(jobKey).equals(Buffer.from(datasetKey))).toBe(true);
      const folder = join(dataDir, "datasets", "clinic-notes");
      const sealedFile = readdirSync(folder).find((f) => f !== "manifest.json");
      const opened = Buffer.from(openRecords(jobKey, "clinic-notes", id, readFileSync(join(folder, sealedFile ?? "")))).toString();
      expect(opened).toContain("[PERSON_1]");
      expect(opened).not.toContain("John Smith");

      // A job the policy does not list is refused by every broker.
      const codes = await refusal(fetchDatasetKey({ brokers: urls, dataset: "clinic-notes", keyId, node: job("trainer-evil"), trust }));
      expect(codes[0]).toBe("KMS_QUORUM_NOT_REACHED");
      expect(codes.slice(1)).toEqual(["KMS_MEASUREMENT_NOT_ALLOWED", "KMS_MEASUREMENT_NOT_ALLOWED", "KMS_MEASUREMENT_NOT_ALLOWED"]);
    } finally {
      await node.close();
    }
  });

  it("fails closed at boot when the dataset's policy does not admit this pipeline's measurement", async () => {
    const { brokers, fetch } = localBrokers(3);
    const urls = brokers.map((b) => b.url);
    const trust = { allowSimulated: true, fetch };
    const datasetKey = new Uint8Array(randomBytes(32));
    const { keyId } = await shareDatasetKey({
      owner: ownerKey(), dataset: "support", datasetKey, brokers: urls, threshold: 2, trust,
      policy: { allowSimulated: true, measurements: { rtmr3: [rtmr3([{ event: PIPELINE_EVENT, payload: utf8.encode("another cleaner") }])] } },
    });
    const dataDir = mkdtempSync(join(tmpdir(), "cloister-dataset-key-"));
    dirs.push(dataDir);
    const codes = await refusal(startDataNode({
      tee: createSimulatorProvider({ gpu: false }), dataDir, host: "127.0.0.1", port: 0, auth: false,
      logger: createLogger({ level: "error", sink: () => {} }), datasetKeyFrom: { brokers: urls, dataset: "support", keyId, trust },
    }));
    expect(codes[0]).toBe("KMS_QUORUM_NOT_REACHED");
  });
});
