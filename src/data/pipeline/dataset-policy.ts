/**
 * Who may hold a dataset key: the attestation policy (src/attest policy JSON) the key
 * brokers check before releasing a share of `dataset/NAME`. The owner names the pipeline
 * measurement and the training jobs the dataset's terms allow; the policy pins them by
 * RTMR3, the register those measured events are extended into.
 *
 * From a measurement alone we can compute the RTMR3 of an image whose RTMR3 records that
 * one event and nothing else: `cloister data up` on a TDX VM (or the simulator), a
 * training job likewise. A platform that extends RTMR3 with more (dstack records its
 * compose hash and instance id first) has a different RTMR3: its owner passes the value
 * itself (`rtmr3`) or a whole policy (`base`).
 */
import type { PolicyInput } from "../../attest/policy/schema.js";
import { parsePolicy } from "../../attest/policy/schema.js";
import { makeRuntimeEvent } from "../../attest/eventlog/dstack.js";
import { replayRtmrs } from "../../attest/eventlog/replay.js";
import { DataError } from "../../errors.js";
import { utf8 } from "../../util/bytes.js";
import { TRAINING_JOB_EVENT } from "./dataset-key.js";
import { PIPELINE_EVENT } from "./pipeline.js";

const HEX = /^(0x)?[0-9a-fA-F]+$/;
const norm = (s: string): string => s.toLowerCase().replace(/^0x/, "");

/** RTMR3 (hex) of an image whose RTMR3 holds exactly one runtime event `event` with `measurement`. */
export function singleEventRtmr3(event: string, measurement: string): string {
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(measurement)) throw new DataError("DATASET_POLICY_INVALID", `${event}: a measurement is 32 bytes of hex`);
  // The payload is the measurement as its hex text, exactly as the pipeline and jobs extend it.
  return replayRtmrs([makeRuntimeEvent(event, utf8.encode(norm(measurement)))])[3] ?? "";
}

export interface DatasetPolicyOptions {
  /** An owner-written policy to start from (its own pins are kept). */
  readonly base?: PolicyInput;
  /** Pipeline measurements (`data up` prints them) whose RTMR3 is that one event. */
  readonly pipelines?: readonly string[];
  /** Training-job measurements (`cloister-training-job` events) likewise. */
  readonly trainingJobs?: readonly string[];
  /** RTMR3 values given as they are (platforms that extend RTMR3 with more events). */
  readonly rtmr3?: readonly string[];
  /** Admit simulated evidence (development only). */
  readonly allowSimulated?: boolean;
}

/** The policy for `shareDatasetKey`: RTMR3 must be one of the listed holders'. Refuses a policy that pins nothing. */
export function datasetKeyPolicy(o: DatasetPolicyOptions): PolicyInput {
  for (const r of o.rtmr3 ?? []) if (!HEX.test(r) || norm(r).length !== 96) throw new DataError("DATASET_POLICY_INVALID", "an RTMR3 value is 48 bytes of hex");
  const base = o.base ?? {};
  const listed = [
    ...(base.measurements?.rtmr3 ?? []).map(norm),
    ...(o.pipelines ?? []).map((m) => singleEventRtmr3(PIPELINE_EVENT, m)),
    ...(o.trainingJobs ?? []).map((m) => singleEventRtmr3(TRAINING_JOB_EVENT, m)),
    ...(o.rtmr3 ?? []).map(norm),
  ];
  const rtmr3 = [...new Set(listed)];
  const measurements = { ...(base.measurements ?? {}), ...(rtmr3.length > 0 ? { rtmr3 } : {}) };
  if (Object.keys(measurements).length === 0) {
    throw new DataError("DATASET_POLICY_INVALID", "the dataset key's policy pins no measurement: name the pipeline (and training jobs) allowed to hold it");
  }
  const policy: PolicyInput = { ...base, measurements, ...(o.allowSimulated ? { allowSimulated: true } : {}) };
  try {
    parsePolicy(policy);
  } catch (cause) {
    throw new DataError("DATASET_POLICY_INVALID", cause instanceof Error ? cause.message : "invalid policy", { cause });
  }
  return policy;
}
