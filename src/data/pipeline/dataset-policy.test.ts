import { describe, expect, it } from "vitest";
import { replayRtmrs } from "../../attest/eventlog/replay.js";
import { parsePolicy } from "../../attest/policy/schema.js";
import { createSimulatorProvider } from "../../attest/simulator/provider.js";
import { utf8 } from "../../util/bytes.js";
import { TRAINING_JOB_EVENT } from "./dataset-key.js";
import { datasetKeyPolicy, singleEventRtmr3 } from "./dataset-policy.js";
import { describeDefaultPipeline, PIPELINE_EVENT } from "./pipeline.js";

const PIPELINE = describeDefaultPipeline().measurement;
const JOB = "7e".repeat(32);

/** RTMR3 of a (simulated) TEE after the data node extends its pipeline event at boot. */
async function bootedRtmr3(event: string, measurement: string): Promise<string> {
  const tee = createSimulatorProvider({ gpu: false });
  await tee.extendAppEvent(event, utf8.encode(measurement));
  return replayRtmrs(tee.eventLog())[3] ?? "";
}

describe("dataset key policy", () => {
  it("pins the RTMR3 a pipeline or training job has after recording its measurement", async () => {
    expect(singleEventRtmr3(PIPELINE_EVENT, PIPELINE)).toBe(await bootedRtmr3(PIPELINE_EVENT, PIPELINE));
    expect(singleEventRtmr3(PIPELINE_EVENT, `0x${PIPELINE.toUpperCase()}`)).toBe(await bootedRtmr3(PIPELINE_EVENT, PIPELINE));
    expect(singleEventRtmr3(TRAINING_JOB_EVENT, JOB)).toBe(await bootedRtmr3(TRAINING_JOB_EVENT, JOB));
    // The same measurement under the other event is another holder.
    expect(singleEventRtmr3(TRAINING_JOB_EVENT, PIPELINE)).not.toBe(singleEventRtmr3(PIPELINE_EVENT, PIPELINE));
  });

  it("lists the pipeline, the jobs and literal RTMR3 values, keeping an owner policy's own pins", () => {
    const literal = "ab".repeat(48);
    const p = datasetKeyPolicy({
      base: { measurements: { mrtd: ["cd".repeat(48)], rtmr3: ["EF".repeat(48)] } },
      pipelines: [PIPELINE], trainingJobs: [JOB], rtmr3: [`0x${literal}`], allowSimulated: true,
    });
    expect(p.measurements?.mrtd).toEqual(["cd".repeat(48)]);
    expect(p.measurements?.rtmr3).toEqual(["ef".repeat(48), singleEventRtmr3(PIPELINE_EVENT, PIPELINE), singleEventRtmr3(TRAINING_JOB_EVENT, JOB), literal]);
    expect(p.allowSimulated).toBe(true);
    expect(() => parsePolicy(p)).not.toThrow();
    expect(datasetKeyPolicy({ pipelines: [PIPELINE] }).allowSimulated).toBeUndefined();
  });

  it("refuses a policy that pins nothing, malformed measurements and invalid owner policies", () => {
    const code = { code: "DATASET_POLICY_INVALID" };
    expect(() => datasetKeyPolicy({})).toThrow(expect.objectContaining(code));
    expect(() => datasetKeyPolicy({ pipelines: ["abc"] })).toThrow(expect.objectContaining(code));
    expect(() => datasetKeyPolicy({ rtmr3: ["ab".repeat(32)] })).toThrow(expect.objectContaining(code));
    expect(() => datasetKeyPolicy({ base: { measurements: { rtmr9: ["00"] } } as never, pipelines: [PIPELINE] })).toThrow(expect.objectContaining(code));
  });
});
