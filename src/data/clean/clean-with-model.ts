/**
 * The cleaner with the ONNX token classifier as one more layer: the model runs first
 * (onnxruntime is asynchronous), and its spans join the other layers' through the
 * cleaner's `extra` detectors, so they are united, placeholdered and risk-scored exactly
 * like every other layer's.
 */
import { clean, type CleanerConfig, type CleanResult } from "./cleaner.js";
import type { NerModel } from "./onnx/ner-model.js";

export async function cleanWithModel(text: string, config: CleanerConfig, model: NerModel | null): Promise<CleanResult> {
  if (!model) return clean(text, config);
  const spans = await model.detect(text);
  return clean(text, { ...config, extra: [...(config.extra ?? []), { name: "model", detect: () => spans }] });
}
