/**
 * `cloister up --model MODEL.sealed --kms URL,...`: read the sealed header, fetch the data
 * key from t brokers, decrypt into an in-memory file (memfd.ts) — the plaintext weights
 * never touch a filesystem — and check the header against the owner's registration. The
 * caller loads the model from `memFile.path` and must keep renewing the lease (lease.ts).
 */
import { SealError } from "../../errors.js";
import { inspectSealedFile } from "../file/open.js";
import type { SealedHeader } from "../file/format.js";
import { KmsCode, KmsError } from "../codes.js";
import type { BrokerTrust } from "../attest-broker.js";
import type { OpenedRegistration } from "../registration.js";
import { fetchModelKey, type FetchedKey, type NodeIdentity } from "./fetch-key.js";
import { decryptInto } from "./decrypt-into.js";
import { createMemFile, type MemFile } from "./memfd.js";

export interface OpenedSealedModel {
  readonly header: SealedHeader;
  readonly memFile: MemFile;
  readonly registration: OpenedRegistration;
  readonly key: Omit<FetchedKey, "dataKey">;
}

export async function openSealedModel(opts: { sealedPath: string; brokers: readonly string[]; node: NodeIdentity; trust: BrokerTrust }): Promise<OpenedSealedModel> {
  const { header } = await inspectSealedFile(opts.sealedPath);
  const fetched = await fetchModelKey({ brokers: opts.brokers, modelId: header.model_id, keyId: header.key_id, node: opts.node, trust: opts.trust });
  const { dataKey, ...key } = fetched;
  const r = fetched.registration.registration;
  if (r.plaintext_sha256 !== header.plaintext_sha256 || r.plaintext_size !== header.plaintext_size) {
    dataKey.fill(0);
    throw new KmsError(KmsCode.KMS_KEY_MISMATCH, "the sealed file is not the model the owner registered (plaintext hash or size differs)");
  }
  const memFile = await createMemFile(`cloister-${header.model_id}`);
  let opened: SealedHeader;
  try {
    // The header was read above without its MAC; the one opened is authenticated: it must
    // still be the registered model (the file could have been swapped in between).
    opened = await decryptInto(opts.sealedPath, dataKey, memFile);
    if (opened.plaintext_sha256 !== r.plaintext_sha256 || opened.plaintext_size !== r.plaintext_size) throw new KmsError(KmsCode.KMS_KEY_MISMATCH, "the sealed file changed while it was opened: it is not the model the owner registered");
  } catch (e) {
    memFile.close();
    throw e instanceof SealError || e instanceof KmsError ? e : new KmsError(KmsCode.KMS_KEY_MISMATCH, "could not open the sealed model", { cause: e });
  } finally {
    dataKey.fill(0);
  }
  return { header: opened, memFile, registration: fetched.registration, key };
}
