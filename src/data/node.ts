/**
 * `cloister data up`: a node that runs only the data pipeline. The same gateway as
 * `cloister up` (attestation report, E2E, signatures) with no model: its backend serves
 * none, and the pipeline's measurement is extended into RTMR3 at boot.
 */
import { join } from "node:path";
import type { TeeProvider } from "../attest/provider.js";
import { InferenceError } from "../errors.js";
import { createGateway, freshE2EKeys } from "../gateway/app.js";
import { createMetrics } from "../gateway/metrics.js";
import { startServer, type RunningServer } from "../gateway/server.js";
import { InferenceCode, type GenerationEvent, type InferenceBackend } from "../inference/backend.js";
import type { Logger } from "../log/logger.js";
import { createSigner } from "../seal/signing.js";
import { openSqliteStore } from "../store/sqlite.js";
import { ReceiptLog } from "../transparency/receipt-log.js";
import { nodeTreeHashes } from "../transparency/merkle-node.js";
import type { NerModel } from "./clean/onnx/ner-model.js";
import type { BrokerTrust } from "../kms/attest-broker.js";
import { utf8 } from "../util/bytes.js";
import { DEFAULT_CLEANER_CONFIG } from "./clean/cleaner.js";
import { fetchDatasetKey } from "./pipeline/dataset-key.js";
import { createPipeline, describeDefaultPipeline, PIPELINE_EVENT, type Pipeline, type PipelineOptions } from "./pipeline/pipeline.js";

/** A backend that serves no model: a data node answers completions with MODEL_NOT_FOUND. */
export const noModelBackend: InferenceBackend = {
  kind: "llama",
  listModels: async () => [],
  chat: () => refuse(),
  complete: () => refuse(),
  close: async () => {},
};
// A generator, so the error surfaces when the gateway iterates it.
async function* refuse(): AsyncGenerator<GenerationEvent> {
  throw new InferenceError(InferenceCode.MODEL_NOT_FOUND, "this node runs the data pipeline only; it serves no model");
}

export interface DataNode {
  readonly url: string;
  readonly pipeline: Pipeline;
  readonly signingAddress: string;
  close(): Promise<void>;
}

export interface DataNodeOptions {
  readonly tee: TeeProvider;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly auth: boolean;
  readonly logger: Logger;
  /** Reward claims are signed for this DataPool (chain id and contract address). */
  readonly rewards?: PipelineOptions["rewards"];
  /** An ONNX token classifier to run as a cleaning layer (measured). */
  readonly nerModel?: NerModel;
  /**
   * Fetch the dataset key from these key brokers (after the pipeline's measurement is in
   * RTMR3, so the dataset's policy can pin it) instead of making one at boot.
   */
  readonly datasetKeyFrom?: { readonly brokers: readonly string[]; readonly dataset: string; readonly keyId: string; readonly trust: BrokerTrust };
}

export async function startDataNode(opts: DataNodeOptions): Promise<DataNode> {
  const signers = { ecdsa: createSigner("ecdsa"), ed25519: createSigner("ed25519") };
  // One receipt log for the node: its completions and its contribution receipts.
  const receipts = new ReceiptLog(`cloister-receipts/${signers.ecdsa.address}`, nodeTreeHashes);
  const measured = describeDefaultPipeline(DEFAULT_CLEANER_CONFIG, opts.nerModel?.sha256 ?? null);
  try {
    await opts.tee.extendAppEvent?.(PIPELINE_EVENT, utf8.encode(measured.measurement));
  } catch {
    opts.logger.warn("pipeline measurement not recorded in RTMR3 (the TEE has no app events)");
  }
  const info = { app_name: "cloister-data", version: "0.1.0", app_manifest: { data_pipeline: { measurement: measured.measurement, cleaner: measured.description.cleaner } }, compose_hash: null };
  const k = opts.datasetKeyFrom;
  const datasetKey = k ? await fetchDatasetKey({ brokers: k.brokers, dataset: k.dataset, keyId: k.keyId, trust: k.trust, node: { tee: opts.tee, signer: signers.ecdsa, info } }) : undefined;
  const pipeline = createPipeline({
    dir: join(opts.dataDir, "datasets"),
    signer: signers.ecdsa,
    logger: opts.logger,
    onSigned: receipts.record,
    measured,
    ...(datasetKey ? { datasetKey } : {}),
    ...(opts.rewards ? { rewards: opts.rewards } : {}),
    ...(opts.nerModel ? { nerModel: opts.nerModel } : {}),
  });
  const store = openSqliteStore({ path: join(opts.dataDir, "data-node.sqlite") });
  const app = createGateway({
    backend: noModelBackend,
    tee: opts.tee,
    store,
    signers,
    e2e: freshE2EKeys(true),
    authRequired: opts.auth,
    info,
    metrics: createMetrics(),
    logger: opts.logger,
    data: pipeline.routes,
    receipts,
  });
  const server: RunningServer = await startServer(app, { host: opts.host, port: opts.port });
  return {
    url: server.url,
    pipeline,
    signingAddress: signers.ecdsa.address,
    close: async () => {
      await server.close({ drainMs: 1000 });
      await store.close();
    },
  };
}
