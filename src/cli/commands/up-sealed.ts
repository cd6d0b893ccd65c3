/**
 * The sealed-model branch of `cloister up`: fetch the key from the brokers with this
 * node's evidence, decrypt into memory (src/kms/node), load llama.cpp from the in-memory
 * file, and keep the lease alive. The report's app manifest names the sealed model (id,
 * hashes, owner, price and royalty, the brokers) so clients see what they talk to.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { TeeProvider } from "../../attest/provider.js";
import type { NodeConfig } from "../../config/node-config.js";
import type { InferenceBackend } from "../../inference/backend.js";
import type { Logger } from "../../log/logger.js";
import type { BrokerTrust } from "../../kms/attest-broker.js";
import { fetchModelKey, type NodeIdentity } from "../../kms/node/fetch-key.js";
import { keepLease, type LeaseKeeper } from "../../kms/node/lease-keeper.js";
import { openSealedModel } from "../../kms/node/sealed-model.js";
import type { Signer } from "../../seal/signing.js";

export interface SealedBackend {
  readonly backend: InferenceBackend;
  readonly manifest: Record<string, unknown>;
  readonly label: string;
  readonly lease: LeaseKeeper;
  /** Closes the backend and drops the in-memory weights. */
  /** The report info renewals must present from now on (after the manifest went into RTMR3). */
  setReportInfo(info: NodeIdentity["info"]): void;
  close(): Promise<void>;
}

export async function loadSealedBackend(config: NodeConfig, tee: TeeProvider, signer: Signer, version: string, logger: Logger): Promise<SealedBackend> {
  const sealedPath = resolve(config.modelFlag ?? "");
  const brokers = config.kms ?? [];
  const trust: BrokerTrust = {
    allowSimulated: config.kmsAllowSimulated,
    ...(config.kmsPolicy ? { policy: JSON.parse(readFileSync(config.kmsPolicy, "utf8")) as unknown } : {}),
  };
  // Renewals must show the report the node serves once its manifest is in RTMR3 (a report
  // whose app_manifest is not the recorded one fails MODEL_MISMATCH): up.ts sets it.
  let info: NodeIdentity["info"] = { app_name: "cloister", version, app_manifest: { app: "cloister", version, phase: "sealed-model-key-request" }, compose_hash: null };
  const node: NodeIdentity = {
    tee,
    signer,
    get info() {
      return info;
    },
  };
  const opened = await openSealedModel({ sealedPath, brokers, node, trust });
  const { header, memFile, registration } = opened;
  // Keep the lease from the moment we hold the key: loading the model may take longer than
  // half a short lease, and the renewal must not wait for it.
  const lease = keepLease(opened.key.expiresAt, () => fetchModelKey({ brokers, modelId: header.model_id, keyId: header.key_id, node, trust }), {
    onRenewFailed: (e) => logger.warn("sealed model: lease renewal failed", { code: e instanceof Error && "code" in e ? String((e as { code: unknown }).code) : "UNKNOWN" }),
  });
  let backend: InferenceBackend;
  try {
    const { createLlamaBackend } = await import("../../inference/llama/backend.js");
    backend = await createLlamaBackend({
      modelPath: memFile.path,
      modelId: header.model_id,
      ...(config.threads ? { threads: config.threads } : {}),
      ...(config.parallel ? { parallel: config.parallel } : {}),
    });
  } catch (e) {
    lease.stop();
    memFile.close();
    throw e;
  }
  const r = registration.registration;
  const sealed = {
    model_id: header.model_id,
    plaintext_sha256: header.plaintext_sha256,
    plaintext_size: header.plaintext_size,
    key_id: header.key_id,
    sealed_sha256: r.sealed_sha256,
    registration_sha256: registration.digest,
    registration_sequence: r.sequence,
    owner: r.owner,
    price: r.price,
    royalty: r.royalty,
    brokers: opened.key.leases.map((l) => l.broker),
  };
  return {
    backend,
    manifest: { backend: "llama", models: [{ id: header.model_id, source: "sealed", sha256: header.plaintext_sha256, sealed }] },
    label: `${header.model_id} (sealed, sha256 ${header.plaintext_sha256.slice(0, 12)}…, key from ${opened.key.leases.length} of ${brokers.length} brokers)`,
    lease,
    setReportInfo: (next) => void (info = next),
    async close() {
      lease.stop();
      await backend.close();
      memFile.close();
    },
  };
}
