/**
 * `cloister data key upload`: the dataset owner puts the dataset key with the key brokers
 * (src/data/pipeline/dataset-key.ts, the sealed-models brokers of src/kms). Each broker is
 * attested before it receives its share (the same --kms-policy / --allow-simulated-kms as
 * `cloister model upload`); the brokers release the key only to evidence the dataset's
 * policy admits: the pipeline and the training jobs the owner names. A new key is random
 * (node:crypto) and written, mode 0600, before anything is sent, so it is never lost.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { PolicyInput } from "../../attest/policy/schema.js";
import { datasetKeyName, shareDatasetKey } from "../../data/pipeline/dataset-key.js";
import { datasetKeyPolicy } from "../../data/pipeline/dataset-policy.js";
import { DataError, isCloisterError } from "../../errors.js";
import { KmsCode, KmsError } from "../../kms/codes.js";
import { ownerSigner } from "../../kms/signed.js";
import { brokerTrust, KMS_OWNER_OPTIONS, kmsUrls, readHexFile, readJsonFile } from "../kms-owner-flags.js";
import { EXIT, type CliIO } from "../io.js";

export const KEY_USAGE = `  data key upload --dataset NAME --kms URL,URL,... --owner-key FILE [--threshold T]
                  --pipeline-measurement HEX [--training-job HEX ...] [--rtmr3 HEX ...] [--policy FILE]
                  [--key-file FILE | --key-out FILE] [--lease-seconds S] [--sequence N]
                  [--kms-policy FILE] [--allow-simulated-kms] [--policy-allow-simulated] [--json]
        split the dataset key T-of-n (default 2) over the brokers, each attested first, under a
        policy that releases it only to the pipeline measurement and the training jobs named (by
        the RTMR3 of an image recording that one event; --rtmr3 for platforms such as dstack that
        record more, --policy FILE for a whole policy of your own, e.g. pinning MRTD too).
        --key-file uploads an existing key (32 bytes of hex); otherwise a new random key is
        written to --key-out (default ./NAME.dataset.key, mode 0600, never overwritten) first.
        --owner-key: the signing key of the registration (\`cloister model keygen --out FILE\`).
        --policy-allow-simulated lets simulated pipelines hold the key (development only).`;

const OPTIONS = {
  ...KMS_OWNER_OPTIONS,
  dataset: { type: "string" },
  threshold: { type: "string" },
  "owner-key": { type: "string" },
  "pipeline-measurement": { type: "string", multiple: true },
  "training-job": { type: "string", multiple: true },
  rtmr3: { type: "string", multiple: true },
  policy: { type: "string" },
  "policy-allow-simulated": { type: "boolean" },
  "key-file": { type: "string" },
  "key-out": { type: "string" },
  "lease-seconds": { type: "string" },
  sequence: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const bad = (msg: string): KmsError => new KmsError(KmsCode.KMS_BAD_REQUEST, msg);

function positiveInt(text: string | undefined, flag: string, dflt: number): number {
  if (text === undefined) return dflt;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw bad(`${flag} must be a whole number of at least 1`);
  return Number(text);
}

/** The key to upload: --key-file's, or a new one written to --key-out before anything is sent. */
function datasetKey(v: { "key-file"?: string | undefined; "key-out"?: string | undefined }, dataset: string, cwd: string): { key: Uint8Array; file: string; created: boolean } {
  if (v["key-file"]) {
    if (v["key-out"]) throw bad("give --key-file (an existing key) or --key-out (where a new one goes), not both");
    const file = resolve(cwd, v["key-file"]);
    return { key: readHexFile(file, 32, "dataset key"), file, created: false };
  }
  const file = resolve(cwd, v["key-out"] ?? `${dataset}.dataset.key`);
  const key = new Uint8Array(randomBytes(32));
  try {
    writeFileSync(file, `${Buffer.from(key).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  } catch (cause) {
    throw new KmsError(KmsCode.KMS_BAD_REQUEST, `cannot create the dataset key file ${file} (it must not exist yet; pass it as --key-file to upload that key)`, { cause });
  }
  return { key, file, created: true };
}

export async function dataKeyCommand(args: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (cause) {
    io.err(`${cause instanceof Error ? cause.message : String(cause)}\n\n${KEY_USAGE}`);
    return EXIT.usage;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    io.out(KEY_USAGE);
    return EXIT.ok;
  }
  if (positionals[0] !== "upload") {
    io.err(`unknown data key command: ${positionals[0] ?? ""}\n\n${KEY_USAGE}`);
    return EXIT.usage;
  }
  try {
    if (!v.dataset) throw bad("data key upload needs --dataset NAME");
    datasetKeyName(v.dataset);
    const brokers = kmsUrls(v, "data key upload");
    const threshold = positiveInt(v.threshold, "--threshold", 2);
    if (threshold > brokers.length) throw bad(`--threshold ${threshold} needs at least ${threshold} brokers in --kms (${brokers.length} given)`);
    if (!v["owner-key"]) throw bad("data key upload needs --owner-key FILE (make one with `cloister model keygen --out FILE`)");
    const owner = ownerSigner(readFileSync(resolve(io.cwd, v["owner-key"]), "utf8"));
    if (!v["pipeline-measurement"]?.length && !v.rtmr3?.length && !v.policy) throw bad("data key upload needs --pipeline-measurement HEX (or --rtmr3 HEX / --policy FILE): who may hold the key");
    const policy = datasetKeyPolicy({
      ...(v.policy ? { base: readJsonFile(resolve(io.cwd, v.policy)) as PolicyInput } : {}),
      pipelines: v["pipeline-measurement"] ?? [],
      trainingJobs: v["training-job"] ?? [],
      rtmr3: v.rtmr3 ?? [],
      allowSimulated: v["policy-allow-simulated"] === true,
    });
    const trust = brokerTrust(v, io.cwd);
    const k = datasetKey(v, v.dataset, io.cwd);
    const r = await shareDatasetKey({
      owner, dataset: v.dataset, datasetKey: k.key, policy, brokers, threshold, trust,
      leaseSeconds: positiveInt(v["lease-seconds"], "--lease-seconds", 3600), sequence: positiveInt(v.sequence, "--sequence", 1),
    }).catch((cause: unknown) => {
      if (k.created) io.err(`the new dataset key stays in ${k.file}: upload it again with --key-file ${k.file}`);
      throw cause;
    });
    k.key.fill(0);
    const next = `cloister data up --kms ${brokers.join(",")} --dataset ${v.dataset} --dataset-key-id ${r.keyId}`;
    if (v.json) {
      io.out(JSON.stringify({ dataset: v.dataset, key_id: r.keyId, key_file: k.file, created: k.created, threshold, owner: owner.address, policy, uploaded: r.uploaded, data_up: next }));
    } else {
      io.out(`dataset key for ${v.dataset} uploaded: key id ${r.keyId}, ${threshold}-of-${brokers.length} shares, each broker attested first`);
      for (const u of r.uploaded) io.out(`  share ${u.shareIndex} -> ${u.broker} (broker ${u.brokerAddress})`);
      io.out(`  key file ${k.file}${k.created ? " (new, mode 0600: keep it; it opens the dataset's sealed records)" : ""}`);
      io.out(`  released only to RTMR3 ${policy.measurements?.rtmr3?.join(", ") ?? "(see --policy)"}${policy.allowSimulated ? " (simulated evidence admitted)" : ""}`);
      io.out(`  start the pipeline with: ${next}`);
    }
    if (r.uploaded.some((u) => u.simulated)) io.out("SIMULATED broker(s): their attestation proves nothing — development only");
    return EXIT.ok;
  } catch (e) {
    io.err(`cloister data key: ${isCloisterError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e)}`);
    const usage = isCloisterError(e) && (e.code === KmsCode.KMS_BAD_REQUEST || (e instanceof DataError && (e.code === "DATASET_POLICY_INVALID" || e.code === "DATASET_INVALID")));
    return usage ? EXIT.usage : EXIT.failed;
  }
}
