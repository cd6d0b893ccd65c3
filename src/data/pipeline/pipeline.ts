/**
 * Assembles a data pipeline for a node: the measured cleaner configuration, its
 * measurement, the sealed dataset store, the pseudonym key, and the routes the gateway
 * mounts. The measurement goes into the attestation twice: as an RTMR3 event
 * (`rtmr3Event`, extended at boot like dstack's compose-hash event, so a measurement
 * policy can pin it) and in the report's app manifest (`appManifestEntry`, for display).
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "../../log/logger.js";
import type { Signer } from "../../seal/signing.js";
import type { Sha256 } from "../../types.js";
import { utf8 } from "../../util/bytes.js";
import { DEFAULT_CLEANER_CONFIG, type CleanerConfig } from "../clean/cleaner.js";
import { describePipeline, pipelineMeasurement, type PipelineDescription } from "./measurement.js";
import type { NerModel } from "../clean/onnx/ner-model.js";
import { poolDomain } from "./receipt.js";
import { dataRoutes, type DataRoutes } from "./routes.js";
import { fileDatasetStore, type DatasetStore } from "./sealed-store.js";
import type { OnSigned } from "../../transparency/signed-hook.js";

export const PIPELINE_EVENT = "cloister-data-pipeline";
export const NEAR_DUPLICATE_THRESHOLD = 0.8;

export interface PipelineOptions {
  readonly dir: string;
  readonly signer: Signer;
  /** 32-byte dataset key; a fresh one per boot when omitted (until the key broker, #11). */
  readonly datasetKey?: Uint8Array;
  readonly pseudonymKey?: Uint8Array;
  readonly config?: CleanerConfig;
  readonly modelSha256?: Sha256 | null;
  /** The ONNX token classifier (`--ner-model`): run as a layer, its hash measured. */
  readonly nerModel?: NerModel;
  /** The DataPool paying this pipeline's reward claims (claims are signed for its domain). */
  readonly rewards?: { readonly chainId: number; readonly pool: string };
  /** The description and measurement, when the caller computed them already (digesting the word lists takes a while). */
  readonly measured?: { readonly description: PipelineDescription; readonly measurement: Sha256 };
  readonly logger?: Logger;
  /** The node's receipt log hears of every contribution receipt (src/transparency/signed-hook.ts). */
  readonly onSigned?: OnSigned;
}

export interface Pipeline {
  readonly description: PipelineDescription;
  readonly measurement: Sha256;
  readonly routes: DataRoutes;
  readonly store: DatasetStore;
  readonly rtmr3Event: { readonly event: string; readonly payload: Uint8Array };
  readonly appManifestEntry: { readonly measurement: Sha256; readonly cleaner: string };
}

export function describeDefaultPipeline(config: CleanerConfig = DEFAULT_CLEANER_CONFIG, modelSha256: Sha256 | null = null): { description: PipelineDescription; measurement: Sha256 } {
  const description = describePipeline(config, { nearDuplicateThreshold: NEAR_DUPLICATE_THRESHOLD, modelSha256 });
  return { description, measurement: pipelineMeasurement(description) };
}

export function createPipeline(opts: PipelineOptions): Pipeline {
  const config = opts.config ?? DEFAULT_CLEANER_CONFIG;
  const { description, measurement } = opts.measured ?? describeDefaultPipeline(config, opts.nerModel?.sha256 ?? opts.modelSha256 ?? null);
  const store = fileDatasetStore(opts.dir, opts.datasetKey ?? randomBytes(32));
  const routes = dataRoutes({
    config,
    measurement,
    description,
    signer: opts.signer,
    store,
    pseudonymKey: opts.pseudonymKey ?? randomBytes(32),
    nearDuplicateThreshold: NEAR_DUPLICATE_THRESHOLD,
    ...(opts.nerModel ? { nerModel: opts.nerModel } : {}),
    ...(opts.rewards ? { claimDomain: poolDomain(opts.rewards.chainId, opts.rewards.pool) } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.onSigned ? { onSigned: opts.onSigned } : {}),
  });
  return {
    description,
    measurement,
    routes,
    store,
    rtmr3Event: { event: PIPELINE_EVENT, payload: utf8.encode(measurement) },
    appManifestEntry: { measurement, cleaner: description.cleaner },
  };
}
