/**
 * The one filter between an agent run's telemetry and its developer. It is the only
 * exporter attached to the run's OpenTelemetry providers (logs, traces, metrics), and it
 * forwards nothing as it came: each signal is rebuilt field by field into a fixed schema
 * for the declared observability level (DESIGN.md "Agents"), so an attribute, resource
 * or body the schema does not name cannot pass whatever the SDK or instrumentation adds.
 *
 *   none     — the `agent.runs` count, without attributes
 *   metrics  — every `agent.*` instrument (counters and timings), `outcome` on agent.runs;
 *              the `agent.run` span's name, duration and outcome
 *   redacted — + stderr lines as error logs, input fragments and secret-shaped text cut out
 *   full     — + stderr and output log bodies as they were (the user accepted it)
 */
import { SeverityNumber } from "@opentelemetry/api-logs";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { LogRecordExporter, ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { AggregationTemporality, DataPointType, type PushMetricExporter, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { ObservabilityLevel } from "../manifest.js";

/** Instruments a run records (run-telemetry.ts); nothing else is ever exported. */
export const RUN_METRICS = ["agent.runs", "agent.run.duration", "agent.egress.connections", "agent.egress.refused", "agent.egress.bytes_out", "agent.egress.bytes_in", "agent.inference.calls"] as const;
export type RunMetric = (typeof RUN_METRICS)[number];
export const RUN_SPAN = "agent.run";
export const LOG_STDERR = "agent.stderr";
export const LOG_OUTPUT = "agent.output";
const MAX_ERROR_LINES = 20;
const MAX_LINE = 500;

export interface FilteredMetric {
  readonly name: RunMetric;
  /** Sum of a counter, or sum of a histogram's values. */
  readonly value: number;
  readonly outcome?: string;
}
export interface FilteredSpan {
  readonly name: typeof RUN_SPAN;
  readonly duration_ms: number;
  readonly outcome: string;
}
export interface FilteredLog {
  readonly event: typeof LOG_STDERR | typeof LOG_OUTPUT;
  readonly body: string;
}

/** What reached the developer's side of the filter, per signal. */
export class FilteredSink {
  readonly metrics: FilteredMetric[] = [];
  readonly spans: FilteredSpan[] = [];
  readonly logs: FilteredLog[] = [];
}

const SECRETISH = [/\bsk-[A-Za-z0-9_-]{8,}/g, /\b[A-Za-z0-9+/_-]{32,}={0,2}/g, /[\w.+-]+@[\w-]+\.[\w.-]+/g, /\b\d[\d -]{6,}\d\b/g];

/** Every string leaf (and number) of the input JSON, longest first; whole input if not JSON. */
export function inputFragments(input: Uint8Array): string[] {
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

const ok = (cb: (r: ExportResult) => void): void => cb({ code: ExportResultCode.SUCCESS });
const isRunMetric = (n: string): n is RunMetric => (RUN_METRICS as readonly string[]).includes(n);
const atLeast = (level: ObservabilityLevel, min: ObservabilityLevel): boolean => ["none", "metrics", "redacted", "full"].indexOf(level) >= ["none", "metrics", "redacted", "full"].indexOf(min);

export class LevelFilterMetricExporter implements PushMetricExporter {
  constructor(
    private readonly level: ObservabilityLevel,
    private readonly sink: FilteredSink,
  ) {}
  export(rm: ResourceMetrics, cb: (r: ExportResult) => void): void {
    for (const scope of rm.scopeMetrics) {
      for (const m of scope.metrics) {
        const name = m.descriptor.name;
        if (!isRunMetric(name) || (this.level === "none" && name !== "agent.runs")) continue;
        for (const p of m.dataPoints) {
          const value = m.dataPointType === DataPointType.HISTOGRAM ? (p.value as { sum?: number }).sum ?? 0 : typeof p.value === "number" ? p.value : 0;
          const outcome = this.level !== "none" && name === "agent.runs" ? p.attributes["outcome"] : undefined;
          this.sink.metrics.push(typeof outcome === "string" ? { name, value, outcome } : { name, value });
        }
      }
    }
    ok(cb);
  }
  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.DELTA;
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export class LevelFilterSpanExporter implements SpanExporter {
  constructor(
    private readonly level: ObservabilityLevel,
    private readonly sink: FilteredSink,
  ) {}
  export(spans: ReadableSpan[], cb: (r: ExportResult) => void): void {
    if (atLeast(this.level, "metrics")) {
      for (const s of spans) {
        if (s.name !== RUN_SPAN) continue;
        const outcome = s.attributes["agent.outcome"];
        this.sink.spans.push({ name: RUN_SPAN, duration_ms: Math.round(s.duration[0] * 1000 + s.duration[1] / 1e6), outcome: typeof outcome === "string" ? outcome : "unknown" });
      }
    }
    ok(cb);
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export class LevelFilterLogExporter implements LogRecordExporter {
  private errors = 0;
  constructor(
    private readonly level: ObservabilityLevel,
    private readonly sink: FilteredSink,
    /** Strings of this run's input, cut out of `redacted` lines. */
    private readonly fragments: readonly string[],
  ) {}
  export(logs: ReadableLogRecord[], cb: (r: ExportResult) => void): void {
    for (const l of logs) {
      const event = l.attributes["event"];
      const body = typeof l.body === "string" ? l.body : "";
      if (this.level === "full" && (event === LOG_STDERR || event === LOG_OUTPUT)) this.sink.logs.push({ event, body });
      else if (this.level === "redacted" && event === LOG_STDERR && (l.severityNumber ?? 0) >= SeverityNumber.ERROR && this.errors < MAX_ERROR_LINES) {
        this.errors++;
        this.sink.logs.push({ event, body: redactLine(body.slice(0, MAX_LINE), this.fragments) });
      }
    }
    ok(cb);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
