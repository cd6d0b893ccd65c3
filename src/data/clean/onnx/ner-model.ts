/**
 * The optional token-classification layer: an ONNX model run in the enclave with
 * onnxruntime-node (MIT). What we take from a model file, so any exported word-level
 * token classifier fits:
 * - the model: input `input_ids` (int64, [1, n]), output `logits` (float32, [1, n, labels]);
 * - a sidecar `<model>.json`: {"vocab": [word, ...], "labels": ["O", "B-PERSON", ...],
 *   "unk": id, "lowercase": bool}; labels are BIO tags over our entity types.
 * Words are the cleaner's own tokens (tokens.ts), so model spans are in the same
 * offsets as every other layer's and are united with them. The model's hash (model bytes
 * and sidecar) goes into the pipeline measurement.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import ort from "onnxruntime-node";
import { z } from "zod";
import { DataError } from "../../../errors.js";
import type { Sha256 } from "../../../types.js";
import { tokenize } from "../tokens.js";
import { ENTITY_TYPES, span, type EntityType, type Span } from "../types.js";

export const MODEL_PRIORITY = 52;
// Long documents run in windows of this many words (a model's position limit).
export const WINDOW = 256;

const Sidecar = z.object({
  vocab: z.array(z.string()).min(2),
  labels: z.array(z.string().regex(/^(O|[BI]-[A-Z_]+)$/)).min(1),
  unk: z.number().int().nonnegative(),
  lowercase: z.boolean().default(true),
});
type Sidecar = z.infer<typeof Sidecar>;

export interface NerModel {
  /** SHA-256 of the model bytes and the sidecar: part of the pipeline measurement. */
  readonly sha256: Sha256;
  readonly labels: readonly string[];
  detect(text: string): Promise<Span[]>;
  close(): Promise<void>;
}

function entity(label: string): EntityType | null {
  const t = label.slice(2);
  return (ENTITY_TYPES as readonly string[]).includes(t) ? (t as EntityType) : null;
}

export async function loadNerModel(path: string, opts: { threads?: number } = {}): Promise<NerModel> {
  let bytes: Uint8Array;
  let sideText: string;
  try {
    bytes = readFileSync(path);
    sideText = readFileSync(`${path}.json`, "utf8");
  } catch {
    throw new DataError("NER_MODEL_UNREADABLE", "cannot read the NER model or its sidecar (MODEL.json)");
  }
  let side: Sidecar;
  try {
    side = Sidecar.parse(JSON.parse(sideText));
  } catch {
    throw new DataError("NER_MODEL_INVALID", "the NER model's sidecar is not {vocab, labels, unk, lowercase}");
  }
  if (side.unk >= side.vocab.length) throw new DataError("NER_MODEL_INVALID", "the sidecar's unk id is outside the vocabulary");
  // Labels must name types we know, so a model cannot invent a type nobody audits.
  for (const l of side.labels) if (l !== "O" && entity(l) === null) throw new DataError("NER_MODEL_INVALID", `unknown entity type in label ${l}`);
  const sha256 = createHash("sha256").update(bytes).update(sideText).digest("hex") as Sha256;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: opts.threads ?? 1, interOpNumThreads: 1, graphOptimizationLevel: "all" });
  } catch {
    throw new DataError("NER_MODEL_INVALID", "onnxruntime cannot load the NER model");
  }
  if (!session.inputNames.includes("input_ids") || !session.outputNames.includes("logits")) {
    await session.release();
    throw new DataError("NER_MODEL_INVALID", "the NER model must take input_ids and give logits");
  }
  const ids = new Map(side.vocab.map((w, i) => [w, i]));
  const nLabels = side.labels.length;

  async function labelsFor(words: string[]): Promise<number[]> {
    const input = new BigInt64Array(words.map((w) => BigInt(ids.get(side.lowercase ? w.toLowerCase() : w) ?? side.unk)));
    const out = await session.run({ input_ids: new ort.Tensor("int64", input, [1, words.length]) });
    const logits = out["logits"];
    if (!logits || logits.type !== "float32" || logits.dims.length !== 3 || logits.dims[1] !== words.length || logits.dims[2] !== nLabels) {
      throw new DataError("NER_MODEL_INVALID", "the NER model's logits do not have shape [1, words, labels]");
    }
    const data = logits.data as Float32Array;
    const best: number[] = [];
    for (let i = 0; i < words.length; i++) {
      let k = 0;
      for (let j = 1; j < nLabels; j++) if ((data[i * nLabels + j] ?? -Infinity) > (data[i * nLabels + k] ?? -Infinity)) k = j;
      best.push(k);
    }
    return best;
  }

  return {
    sha256,
    labels: side.labels,
    async detect(text) {
      const toks = tokenize(text);
      const out: Span[] = [];
      let open: { start: number; end: number; type: EntityType } | null = null;
      for (let w = 0; w < toks.length; w += WINDOW) {
        const win = toks.slice(w, w + WINDOW);
        const best = await labelsFor(win.map((t) => t.text));
        for (const [i, t] of win.entries()) {
          const label = side.labels[best[i] ?? 0] ?? "O";
          const type = label === "O" ? null : entity(label);
          // BIO: B starts a span; I continues one of the same type (or starts one: recall first).
          if (type !== null && label.startsWith("I-") && open !== null && open.type === type) {
            open.end = t.end;
            continue;
          }
          if (open) out.push(span(open.start, open.end, open.type, "model", MODEL_PRIORITY));
          open = type === null ? null : { start: t.start, end: t.end, type };
        }
      }
      if (open) out.push(span(open.start, open.end, open.type, "model", MODEL_PRIORITY));
      return out;
    },
    close: () => session.release(),
  };
}
