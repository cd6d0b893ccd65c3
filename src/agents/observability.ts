/**
 * The one way anything about a run reaches the agent's developer: a record with a fixed
 * schema per level (DESIGN.md "Agents"). Fields are chosen, never copied: nothing from
 * the agent's stdout, the input, or request bodies exists below `full`, and `redacted`
 * error lines have every string of the input (and anything shaped like a secret) cut out.
 *
 *   none     — { runs: 1 }
 *   metrics  — + outcome, duration, egress counts and bytes, inference calls
 *   redacted — + up to 20 stderr lines, redacted
 *   full     — + stderr and output in full (only after the user accepted it)
 */
import type { ObservabilityLevel } from "./manifest.js";
import type { HostTraffic } from "./egress/traffic.js";

export interface RunFacts {
  readonly outcome: string;
  readonly durationMs: number;
  readonly egress: readonly HostTraffic[];
  readonly refused: number;
  readonly input: Uint8Array;
  readonly output: Uint8Array;
  readonly stderr: Uint8Array;
}

export type TelemetryRecord =
  | { readonly level: "none"; readonly runs: 1 }
  | { readonly level: "metrics"; readonly runs: 1; readonly outcome: string; readonly duration_ms: number; readonly egress_connections: number; readonly egress_refused: number; readonly bytes_out: number; readonly bytes_in: number; readonly inference_calls: number }
  | { readonly level: "redacted"; readonly runs: 1; readonly outcome: string; readonly duration_ms: number; readonly egress_connections: number; readonly egress_refused: number; readonly bytes_out: number; readonly bytes_in: number; readonly inference_calls: number; readonly errors: readonly string[] }
  | { readonly level: "full"; readonly runs: 1; readonly outcome: string; readonly duration_ms: number; readonly egress_connections: number; readonly egress_refused: number; readonly bytes_out: number; readonly bytes_in: number; readonly inference_calls: number; readonly stderr: string; readonly output: string };

const SECRETISH = [/\bsk-[A-Za-z0-9_-]{8,}/g, /\b[A-Za-z0-9+/_-]{32,}={0,2}/g, /[\w.+-]+@[\w-]+\.[\w.-]+/g, /\b\d[\d -]{6,}\d\b/g];

/** Every string leaf (and number) of the input JSON, longest first; whole input if not JSON. */
function inputFragments(input: Uint8Array): string[] {
  const text = Buffer.from(input).toString("utf8");
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      if (v.length >= 3) out.add(v);
      for (const w of v.split(/\s+/)) if (w.length >= 4) out.add(w);
    } else if (typeof v === "number") out.add(String(v));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  try {
    walk(JSON.parse(text));
  } catch {
    if (text.length >= 3) out.add(text);
  }
  return [...out].sort((a, b) => b.length - a.length);
}

export function redactLine(line: string, fragments: readonly string[]): string {
  let s = line;
  for (const f of fragments) s = s.split(f).join("[input]");
  for (const re of SECRETISH) s = s.replace(re, "[redacted]");
  return s;
}

export function telemetryFor(level: ObservabilityLevel, f: RunFacts): TelemetryRecord {
  if (level === "none") return { level, runs: 1 };
  const external = f.egress.filter((t) => t.host !== "inference");
  const metrics = {
    runs: 1 as const,
    outcome: f.outcome,
    duration_ms: Math.round(f.durationMs),
    egress_connections: external.reduce((n, t) => n + t.connections, 0),
    egress_refused: f.refused,
    bytes_out: external.reduce((n, t) => n + t.bytesOut, 0),
    bytes_in: external.reduce((n, t) => n + t.bytesIn, 0),
    inference_calls: f.egress.find((t) => t.host === "inference")?.connections ?? 0,
  };
  if (level === "metrics") return { level, ...metrics };
  const stderr = Buffer.from(f.stderr).toString("utf8");
  if (level === "redacted") {
    const frags = inputFragments(f.input);
    const errors = stderr.split("\n").filter((l) => l.trim()).slice(0, 20).map((l) => redactLine(l.slice(0, 500), frags));
    return { level, ...metrics, errors };
  }
  return { level, ...metrics, stderr, output: Buffer.from(f.output).toString("utf8") };
}
