import { describe, expect, it } from "vitest";
import ort from "onnxruntime-node";
import { buildTinyModel } from "./test-model.js";

// What the NER layer relies on from onnxruntime-node 1.30 (MIT): a session from model
// bytes (no file path, no network), int64 inputs from BigInt64Array, float32 outputs with
// dims, input/output names, a per-session thread setting, release(), and a refusal (not
// a crash) on bytes that are not a model.
describe("onnxruntime-node (contract)", () => {
  const labels = ["O", "B-PERSON", "I-PERSON"];
  const { model } = buildTinyModel({ words: { zorblax: "B-PERSON", quenthor: "I-PERSON" }, labels });

  it("runs a model from bytes with int64 input and float32 logits of shape [1, n, labels]", async () => {
    const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    expect(s.inputNames).toEqual(["input_ids"]);
    expect(s.outputNames).toEqual(["logits"]);
    const out = await s.run({ input_ids: new ort.Tensor("int64", new BigInt64Array([2n, 3n, 1n]), [1, 3]) });
    const logits = out["logits"];
    expect(logits?.type).toBe("float32");
    expect(logits?.dims).toEqual([1, 3, 3]);
    // Row v of the embedding is one-hot on its label, times 10, plus 0.5 on "O".
    expect(Array.from(logits?.data as Float32Array)).toEqual([0.5, 10, 0, 0.5, 0, 10, 0.5, 0, 0]);
    await s.release();
  });

  it("refuses bytes that are not a model with an error", async () => {
    await expect(ort.InferenceSession.create(new Uint8Array([1, 2, 3, 4]))).rejects.toThrow();
  });
});
