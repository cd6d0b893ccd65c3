/**
 * The cleaned dataset, sealed: each accepted contribution's kept records (JSON lines)
 * encrypted with AES-256-GCM under the dataset key, the dataset and contribution id as
 * associated data, and a manifest listing every accepted contribution by id and hash.
 * The key is the pipeline's own (made at boot) or the one the key brokers released
 * (dataset-key.ts); only the sealed bytes touch the disk.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync, existsSync, renameSync } from "node:fs";
import { join } from "node:path";
import { DataError } from "../../errors.js";
import { utf8 } from "../../util/bytes.js";

export interface ManifestEntry {
  readonly contributionId: string;
  readonly contributor: string;
  readonly keptSha256: string;
  readonly records: number;
  readonly pipeline: string;
  readonly issuedAt: number;
}

export interface DatasetStore {
  put(dataset: string, entry: ManifestEntry, keptJsonl: Uint8Array): void;
  manifest(dataset: string): ManifestEntry[];
  /** Opens a contribution's kept records (for an attested training job; tests). */
  open(dataset: string, contributionId: string): Uint8Array;
}

const VERSION = 1;
const DATASET_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function validDataset(name: string): boolean {
  return DATASET_RE.test(name);
}

function aad(dataset: string, id: string): Uint8Array {
  return utf8.encode(`cloister/dataset/v1\0${dataset}\0${id}`);
}

export function sealRecords(key: Uint8Array, dataset: string, id: string, plain: Uint8Array): Uint8Array {
  const nonce = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, nonce);
  c.setAAD(aad(dataset, id));
  const body = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  return Buffer.concat([Buffer.from([VERSION]), nonce, body]);
}

export function openRecords(key: Uint8Array, dataset: string, id: string, sealed: Uint8Array): Uint8Array {
  if (sealed[0] !== VERSION || sealed.length < 1 + 12 + 16) throw new DataError("DATASET_SEALED_INVALID", "not a sealed dataset file");
  const d = createDecipheriv("aes-256-gcm", key, sealed.subarray(1, 13));
  d.setAAD(aad(dataset, id));
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([d.update(sealed.subarray(13, sealed.length - 16)), d.final()]);
  } catch (cause) {
    throw new DataError("DATASET_SEALED_INVALID", "the sealed contribution does not open under this key", { cause });
  }
}

export function fileDatasetStore(dir: string, key: Uint8Array): DatasetStore {
  if (key.length !== 32) throw new DataError("DATASET_KEY_INVALID", "the dataset key must be 32 bytes");
  const folder = (dataset: string): string => {
    if (!validDataset(dataset)) throw new DataError("DATASET_INVALID", "dataset names are 1-64 of a-z 0-9 . _ -");
    const f = join(dir, dataset);
    mkdirSync(f, { recursive: true });
    return f;
  };
  const manifestPath = (dataset: string): string => join(folder(dataset), "manifest.json");
  const read = (dataset: string): ManifestEntry[] => {
    const p = manifestPath(dataset);
    return existsSync(p) ? (JSON.parse(readFileSync(p, "utf8")) as { contributions: ManifestEntry[] }).contributions : [];
  };
  return {
    put(dataset, entry, kept) {
      const f = folder(dataset);
      writeFileSync(join(f, `${entry.contributionId.replace(/^0x/, "")}.sealed`), sealRecords(key, dataset, entry.contributionId, kept));
      const list = [...read(dataset), entry];
      const tmp = `${manifestPath(dataset)}.tmp`;
      writeFileSync(tmp, JSON.stringify({ dataset, contributions: list }, null, 2));
      renameSync(tmp, manifestPath(dataset));
    },
    manifest: read,
    open(dataset, id) {
      return openRecords(key, dataset, id, readFileSync(join(folder(dataset), `${id.replace(/^0x/, "")}.sealed`)));
    },
  };
}
