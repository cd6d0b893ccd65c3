/**
 * The dataset key through the key brokers of the sealed-models issue (src/kms), reusing
 * their whole release path: the dataset's owner splits the key and uploads the shares
 * with a registration (model id `dataset/NAME`) whose attestation policy lists who may
 * hold it — the pipeline's measurement and the training jobs the dataset's terms allow
 * (by RTMR3, which carries the pipeline's and the job's measured events). Each broker
 * releases its share only to fresh, verified evidence that policy admits; an unlisted
 * training job is refused by every broker. Without brokers the pipeline keeps its own
 * key (pipeline.ts), as before.
 */
import { createHash } from "node:crypto";
import type { PolicyInput } from "../../attest/policy/schema.js";
import { dataKeyId } from "../../kms/file/keys.js";
import type { BrokerTrust } from "../../kms/attest-broker.js";
import { fetchModelKey, type NodeIdentity } from "../../kms/node/fetch-key.js";
import { uploadShares, type UploadResult } from "../../kms/owner/upload.js";
import { signRegistration } from "../../kms/registration.js";
import type { SignedDocument } from "../../kms/signed.js";
import type { Signer } from "../../seal/signing.js";
import { randomBytes } from "node:crypto";
import { DataError } from "../../errors.js";
import { validDataset } from "./sealed-store.js";

/** The RTMR3 event a training job records with its own measurement (what a policy pins). */
export const TRAINING_JOB_EVENT = "cloister-training-job";

export function datasetKeyName(dataset: string): string {
  if (!validDataset(dataset)) throw new DataError("DATASET_INVALID", "dataset names are 1-64 of a-z 0-9 . _ -");
  return `dataset/${dataset}`;
}

export interface ShareDatasetKeyOptions {
  readonly owner: Signer;
  readonly dataset: string;
  readonly datasetKey: Uint8Array;
  /** Who may receive the key: the pipeline and the allowed training jobs (src/attest policy). */
  readonly policy: PolicyInput;
  readonly brokers: readonly string[];
  readonly threshold: number;
  readonly trust: BrokerTrust;
  readonly leaseSeconds?: number;
  readonly sequence?: number;
}

/** Registers the dataset key with the brokers and uploads one share to each (each broker attested first). */
export async function shareDatasetKey(o: ShareDatasetKeyOptions): Promise<{ keyId: string; registration: SignedDocument; uploaded: UploadResult[] }> {
  const keyId = dataKeyId(o.datasetKey);
  // A dataset has no sealed file of its own: its name stands in for the sealed and plain digests.
  const tag = createHash("sha256").update(`cloister/dataset/v1\0${o.dataset}`).digest("hex");
  const registration = signRegistration(o.owner, {
    model_id: datasetKeyName(o.dataset),
    sequence: o.sequence ?? 1,
    issued_at: new Date().toISOString(),
    sealed_sha256: tag,
    plaintext_sha256: tag,
    plaintext_size: 0,
    key_id: keyId,
    split_id: randomBytes(16).toString("hex"),
    threshold: o.threshold,
    shares: o.brokers.length,
    price: { token: "none", per_million_tokens: "0" },
    royalty: { recipient: o.owner.address, per_million_tokens: "0" },
    policy: o.policy,
    lease_seconds: o.leaseSeconds ?? 3600,
    revoked_nodes: [],
  });
  const uploaded = await uploadShares({ registration, dataKey: o.datasetKey, brokers: o.brokers, trust: o.trust });
  return { keyId, registration, uploaded };
}

/**
 * The attested side (the pipeline at boot, a training job): fetch t shares and combine
 * them into the dataset key. Fails closed (KMS_QUORUM_NOT_REACHED) when the policy does
 * not admit this node's evidence.
 */
export async function fetchDatasetKey(o: { brokers: readonly string[]; dataset: string; keyId: string; node: NodeIdentity; trust: BrokerTrust }): Promise<Uint8Array> {
  const k = await fetchModelKey({ brokers: o.brokers, modelId: datasetKeyName(o.dataset), keyId: o.keyId, node: o.node, trust: o.trust });
  return k.dataKey;
}
