/**
 * A run's telemetry, recorded with the OpenTelemetry SDK (a logger, a tracer and a meter
 * provider of its own, so nothing of one run is batched with another's) and exported only
 * through the level filter (level-filter.ts). What the filter lets through is returned;
 * nothing else is kept: the providers are shut down before this returns.
 *
 * The SDK is configured in code, never from OTEL_* variables: an always-on sampler, a
 * fixed resource, the simple (synchronous) processors, and — FACTS.md — the processor's
 * options object (`{ exporter }`), which the contract test pins.
 */
import { SeverityNumber } from "@opentelemetry/api-logs";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { AlwaysOnSampler, BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { ObservabilityLevel } from "../manifest.js";
import { FilteredSink, inputFragments, LevelFilterLogExporter, LevelFilterMetricExporter, LevelFilterSpanExporter, LOG_OUTPUT, LOG_STDERR, RUN_SPAN } from "./level-filter.js";

export interface RunFacts {
  readonly outcome: string;
  readonly durationMs: number;
  /** Per host contacted (the egress log); host "inference" is the node's own models. */
  readonly egress: readonly { readonly host: string; readonly connections: number; readonly bytesOut: number; readonly bytesIn: number }[];
  readonly refused: number;
  readonly input: Uint8Array;
  readonly output: Uint8Array;
  readonly stderr: Uint8Array;
}

const SCOPE = "cloister.agents";
const resource = resourceFromAttributes({ "service.name": "cloister-agent-run" });

export async function recordRun(level: ObservabilityLevel, f: RunFacts, endMs: number = Date.now()): Promise<FilteredSink> {
  const sink = new FilteredSink();
  const logs = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: new LevelFilterLogExporter(level, sink, inputFragments(f.input)) })] });
  const traces = new BasicTracerProvider({ resource, sampler: new AlwaysOnSampler(), spanProcessors: [new SimpleSpanProcessor(new LevelFilterSpanExporter(level, sink))] });
  // The interval never fires: forceFlush() exports once, below.
  const reader = new PeriodicExportingMetricReader({ exporter: new LevelFilterMetricExporter(level, sink), exportIntervalMillis: 3_600_000 });
  const meters = new MeterProvider({ resource, readers: [reader] });
  try {
    const meter = meters.getMeter(SCOPE);
    const external = f.egress.filter((t) => t.host !== "inference");
    const sum = (k: "connections" | "bytesOut" | "bytesIn"): number => external.reduce((n, t) => n + t[k], 0);
    meter.createCounter("agent.runs").add(1, { outcome: f.outcome });
    meter.createHistogram("agent.run.duration", { unit: "ms" }).record(Math.round(f.durationMs));
    meter.createCounter("agent.egress.connections").add(sum("connections"));
    meter.createCounter("agent.egress.refused").add(f.refused);
    meter.createCounter("agent.egress.bytes_out", { unit: "By" }).add(sum("bytesOut"));
    meter.createCounter("agent.egress.bytes_in", { unit: "By" }).add(sum("bytesIn"));
    meter.createCounter("agent.inference.calls").add(f.egress.find((t) => t.host === "inference")?.connections ?? 0);

    const span = traces.getTracer(SCOPE).startSpan(RUN_SPAN, { startTime: endMs - f.durationMs, attributes: { "agent.outcome": f.outcome } });
    span.end(endMs);

    const logger = logs.getLogger(SCOPE);
    for (const line of Buffer.from(f.stderr).toString("utf8").split("\n")) {
      if (line.trim()) logger.emit({ severityNumber: SeverityNumber.ERROR, severityText: "ERROR", body: line, attributes: { event: LOG_STDERR } });
    }
    logger.emit({ severityNumber: SeverityNumber.INFO, severityText: "INFO", body: Buffer.from(f.output).toString("utf8"), attributes: { event: LOG_OUTPUT } });
    await meters.forceFlush();
  } finally {
    await Promise.all([logs.shutdown(), traces.shutdown(), meters.shutdown()]);
  }
  return sink;
}
