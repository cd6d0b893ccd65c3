/**
 * `cloister data scrub`: the pipeline's exact cleaner over JSON lines {"text": ...},
 * one result per line: {"text": cleaned, "spans": [{start, end, type}], "rejected", "risk"}
 * with spans in the original text (UTF-16 offsets, as JavaScript and JSON count).
 */
import type { NerModel } from "./clean/onnx/ner-model.js";
import { z } from "zod";
import { DataError } from "../errors.js";
import { clean, DEFAULT_CLEANER_CONFIG, type CleanerConfig } from "./clean/cleaner.js";

const Line = z.object({ text: z.string() }).passthrough();

export interface ScrubLine {
  readonly text: string;
  readonly spans: ReadonlyArray<{ start: number; end: number; type: string }>;
  readonly rejected: boolean;
  readonly risk: number;
}

/** Parses and cleans one input line; a bad line is a DataError naming its number, never its content. */
/** The same as scrubLine, with the ONNX layer when a model is configured. */
export async function scrubLineWithModel(line: string, lineNo: number, model: NerModel | null, config: CleanerConfig = DEFAULT_CLEANER_CONFIG): Promise<ScrubLine> {
  if (!model) return scrubLine(line, lineNo, config);
  const text = parseLine(line, lineNo);
  const spans = await model.detect(text);
  return scrubLine(line, lineNo, { ...config, extra: [...(config.extra ?? []), { name: "model", detect: () => spans }] });
}

export function scrubLine(line: string, lineNo: number, config: CleanerConfig = DEFAULT_CLEANER_CONFIG): ScrubLine {
  const r = clean(parseLine(line, lineNo), config);
  return { text: r.text, spans: r.spans, rejected: r.rejected, risk: r.risk.score };
}

function parseLine(line: string, lineNo: number): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new DataError("SCRUB_BAD_LINE", `line ${lineNo} is not JSON (expected {"text": "..."})`);
  }
  const parsed = Line.safeParse(value);
  if (!parsed.success) throw new DataError("SCRUB_BAD_LINE", `line ${lineNo} has no string "text" field`);
  return parsed.data.text;
}

/** Splits a chunked byte stream into lines (UTF-8), yielding non-empty ones with their numbers. */
export async function* jsonLines(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<{ line: string; no: number }> {
  const decoder = new TextDecoder();
  let buf = "";
  let no = 0;
  for await (const chunk of chunks) {
    buf += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      no++;
      if (line.trim()) yield { line, no };
    }
  }
  buf += decoder.decode();
  no++;
  if (buf.trim()) yield { line: buf, no };
}
