/**
 * Test fixture: writes a tiny ONNX token classifier whose answers are known, so the
 * layer's loading and running code is tested on a real model file without a model hub.
 * The graph is logits = Gather(E, input_ids) · W + b with E one-hot rows (word → label),
 * W = 10·I and b favouring "O", encoded as ONNX protobuf by hand (onnx.proto3 field
 * numbers, https://github.com/onnx/onnx/blob/main/onnx/onnx.proto). Never part of the build.
 */
import { writeFileSync } from "node:fs";

const enc = new TextEncoder();

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n; // two's complement, as protobuf encodes negative int64
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
const vint = (field: number, n: number | bigint): number[] => [...key(field, 0), ...varint(n)];
const bytes = (field: number, b: Uint8Array | number[]): number[] => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string): number[] => bytes(field, enc.encode(s));

const FLOAT = 1;
const INT64 = 7;

function tensor(name: string, dims: number[], values: Float32Array): number[] {
  return [...dims.flatMap((d) => vint(1, d)), ...vint(2, FLOAT), ...str(8, name), ...bytes(9, new Uint8Array(values.buffer))];
}
function valueInfo(name: string, elemType: number, dims: Array<number | string>): number[] {
  const shape = dims.flatMap((d) => bytes(1, typeof d === "number" ? vint(1, d) : str(2, d)));
  const tensorType = [...vint(1, elemType), ...bytes(2, shape)];
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))];
}
function node(op: string, inputs: string[], outputs: string[]): number[] {
  return [...inputs.flatMap((i) => str(1, i)), ...outputs.flatMap((o) => str(2, o)), ...str(3, `${op}_0`), ...str(4, op)];
}

export interface TinyModelSpec {
  /** word → label, e.g. {"zorblax": "B-PERSON"}; every other word is "O". */
  readonly words: Readonly<Record<string, string>>;
  readonly labels: readonly string[];
}

/** Builds the model bytes and its sidecar. */
export function buildTinyModel(spec: TinyModelSpec): { model: Uint8Array; sidecar: string } {
  const vocab = ["<pad>", "<unk>", ...Object.keys(spec.words)];
  const L = spec.labels.length;
  const E = new Float32Array(vocab.length * L);
  vocab.forEach((w, v) => {
    const label = spec.words[w];
    if (label !== undefined) E[v * L + spec.labels.indexOf(label)] = 1;
  });
  const W = new Float32Array(L * L);
  for (let i = 0; i < L; i++) W[i * L + i] = 10;
  const b = new Float32Array(L);
  b[spec.labels.indexOf("O")] = 0.5;
  const graph = [
    ...bytes(1, node("Gather", ["E", "input_ids"], ["emb"])),
    ...bytes(1, node("MatMul", ["emb", "W"], ["proj"])),
    ...bytes(1, node("Add", ["proj", "b"], ["logits"])),
    ...str(2, "tiny-ner"),
    ...bytes(5, tensor("E", [vocab.length, L], E)),
    ...bytes(5, tensor("W", [L, L], W)),
    ...bytes(5, tensor("b", [L], b)),
    ...bytes(11, valueInfo("input_ids", INT64, [1, "n"])),
    ...bytes(12, valueInfo("logits", FLOAT, [1, "n", L])),
  ];
  const model = [...vint(1, 8), ...str(2, "cloister-test"), ...bytes(7, graph), ...bytes(8, [...str(1, ""), ...vint(2, 13)])];
  return { model: new Uint8Array(model), sidecar: JSON.stringify({ vocab, labels: spec.labels, unk: 1, lowercase: true }) };
}

export function writeTinyModel(path: string, spec: TinyModelSpec): void {
  const { model, sidecar } = buildTinyModel(spec);
  writeFileSync(path, model);
  writeFileSync(`${path}.json`, sidecar);
}
