import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../../cli/main.js";
import { processContribution } from "../../pipeline/contribution.js";
import { createPipeline, describeDefaultPipeline } from "../../pipeline/pipeline.js";
import { clean, DEFAULT_CLEANER_CONFIG } from "../cleaner.js";
import { cleanWithModel } from "../clean-with-model.js";
import { loadNerModel, type NerModel } from "./ner-model.js";
import { writeTinyModel } from "./test-model.js";
import { createSigner } from "../../../seal/signing.js";

const dir = mkdtempSync(join(tmpdir(), "cloister-ner-"));
const path = join(dir, "tiny.onnx");
const LABELS = ["O", "B-PERSON", "I-PERSON", "B-ID", "I-ID"];
let model: NerModel;

beforeAll(async () => {
  writeTinyModel(path, { words: { zorblax: "B-PERSON", quenthor: "I-PERSON", kappa: "B-ID", omicron: "I-ID", lonely: "I-PERSON" }, labels: LABELS });
  model = await loadNerModel(path);
});
afterAll(async () => {
  await model?.close();
  rmSync(dir, { recursive: true, force: true });
});

const TEXT = "We met zorblax quenthor yesterday; his code is kappa omicron and a lonely cat.";

describe("ONNX token-classification layer", () => {
  it("labels words as the model's weights say, decoding BIO into spans in the original offsets", async () => {
    const spans = await model.detect(TEXT);
    const at = (s: { start: number; end: number }): string => TEXT.slice(s.start, s.end);
    expect(spans.map((s) => [at(s), s.type, s.layer])).toEqual([
      ["zorblax quenthor", "PERSON", "model"],
      ["kappa omicron", "ID", "model"],
      // An I- tag with nothing open starts a span (recall first).
      ["lonely", "PERSON", "model"],
    ]);
  });

  it("is united with the other layers: what only the model finds is removed, and placeholders stay consistent", async () => {
    expect(clean(TEXT).text).toContain("zorblax quenthor");
    const r = await cleanWithModel(`${TEXT} Later zorblax quenthor called (415) 555-2671.`, DEFAULT_CLEANER_CONFIG, model);
    expect(r.text).not.toContain("zorblax");
    expect(r.text).toContain("[PERSON_1] yesterday");
    expect(r.text).toContain("Later [PERSON_1] called [PHONE_1]");
    expect(r.text).toContain("[ID_1]");
  });

  it("runs long documents in windows", async () => {
    const long = `${"filler ".repeat(600)}zorblax quenthor`;
    const spans = await model.detect(long);
    expect(spans.map((s) => long.slice(s.start, s.end))).toEqual(["zorblax quenthor"]);
  });

  it("puts the model's hash into the pipeline measurement", async () => {
    const without = describeDefaultPipeline();
    const withModel = describeDefaultPipeline(DEFAULT_CLEANER_CONFIG, model.sha256);
    expect(withModel.measurement).not.toBe(without.measurement);
    expect(withModel.description.model).toBe(model.sha256);
    // Another model (other weights) is another measurement.
    const other = join(dir, "other.onnx");
    writeTinyModel(other, { words: { zorblax: "B-PERSON" }, labels: LABELS });
    const m2 = await loadNerModel(other);
    expect(m2.sha256).not.toBe(model.sha256);
    expect(describeDefaultPipeline(DEFAULT_CLEANER_CONFIG, m2.sha256).measurement).not.toBe(withModel.measurement);
    await m2.close();
  });

  it("refuses a model file that is not a model, a missing sidecar, and labels of unknown types", async () => {
    const bad = join(dir, "bad.onnx");
    writeFileSync(bad, "not a model");
    writeFileSync(`${bad}.json`, JSON.stringify({ vocab: ["<pad>", "<unk>"], labels: ["O"], unk: 1, lowercase: true }));
    await expect(loadNerModel(bad)).rejects.toMatchObject({ code: "NER_MODEL_INVALID" });
    await expect(loadNerModel(join(dir, "missing.onnx"))).rejects.toMatchObject({ code: "NER_MODEL_UNREADABLE" });
    const odd = join(dir, "odd.onnx");
    writeTinyModel(odd, { words: { x: "B-SECRET" }, labels: ["O", "B-SECRET"] });
    await expect(loadNerModel(odd)).rejects.toMatchObject({ code: "NER_MODEL_INVALID" });
  });

  it("runs in `cloister data scrub --ner-model`, with the same spans as the library", async () => {
    writeFileSync(join(dir, "in.jsonl"), `${JSON.stringify({ text: TEXT })}\n`);
    const lines: string[] = [];
    const errs: string[] = [];
    const code = await main(["data", "scrub", "in.jsonl", "--ner-model", path, "--json"], { out: (t) => lines.push(t), err: (t) => errs.push(t), env: {}, cwd: dir });
    expect(errs).toEqual([]);
    expect(code).toBe(0);
    const r = JSON.parse(lines[0] ?? "{}") as { spans: Array<{ start: number; end: number; type: string }> };
    expect(r.spans).toEqual((await cleanWithModel(TEXT, DEFAULT_CLEANER_CONFIG, model)).spans);
    expect(r.spans.map((s) => TEXT.slice(s.start, s.end))).toContain("zorblax quenthor");
  });

  it("runs in the pipeline: the measurement names the model and contributions are cleaned with it", async () => {
    const signer = createSigner("ecdsa");
    const p = createPipeline({ dir: join(dir, "ds"), signer, nerModel: model });
    expect(p.measurement).toBe(describeDefaultPipeline(DEFAULT_CLEANER_CONFIG, model.sha256).measurement);
    const r = await processContribution(
      { dataset: "notes", contributor_key: "01".repeat(32), records: [{ text: TEXT }] },
      { config: DEFAULT_CLEANER_CONFIG, measurement: p.measurement, signer, store: p.store, pseudonymKey: new Uint8Array(32), nearDuplicateThreshold: 0.8, nerModel: model },
    );
    expect(r.receipt.message.accepted).toBe(true);
    const kept = Buffer.from(p.store.open("notes", r.receipt.message.contributionId)).toString();
    expect(kept).not.toContain("zorblax");
    expect(kept).toContain("[PERSON_1]");
  });
});
