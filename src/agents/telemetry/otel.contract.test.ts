/**
 * What the agents' telemetry relies on from the OpenTelemetry JS SDK (pinned:
 * @opentelemetry/sdk-logs 0.223.0, sdk-trace-base / sdk-metrics 2.12.0, api 1.9.0).
 * If an upgrade changes any of this, the level filter's guarantees need re-checking.
 */
import { SeverityNumber } from "@opentelemetry/api-logs";
import { ExportResultCode } from "@opentelemetry/core";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, } from "@opentelemetry/sdk-logs";
import { AggregationTemporality, DataPointType, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { AlwaysOnSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";

afterEach(() => {
  delete process.env["OTEL_TRACES_SAMPLER"];
});

describe("OpenTelemetry SDK contract", () => {
  it("SimpleLogRecordProcessor({ exporter }) hands each record to the exporter as it is emitted, body and attributes intact", async () => {
    const exporter = new InMemoryLogRecordExporter();
    const logs = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
    logs.getLogger("c").emit({ severityNumber: SeverityNumber.ERROR, body: "line", attributes: { event: "agent.stderr" } });
    expect(exporter.getFinishedLogRecords().map((r) => [r.body, r.severityNumber, r.attributes["event"]])).toEqual([["line", SeverityNumber.ERROR, "agent.stderr"]]);
    await logs.shutdown();
  });

  it("the exporter passed positionally (the FACTS.md trap) exports nothing", async () => {
    const exporter = new InMemoryLogRecordExporter();
    let threw = false;
    try {
      const logs = new LoggerProvider({ processors: [new SimpleLogRecordProcessor(exporter as unknown as ConstructorParameters<typeof SimpleLogRecordProcessor>[0])] });
      logs.getLogger("c").emit({ body: "lost" });
      await logs.shutdown();
    } catch {
      threw = true;
    }
    expect(threw || exporter.getFinishedLogRecords().length === 0).toBe(true);
    expect(exporter.getFinishedLogRecords()).toHaveLength(0);
  });

  it("SimpleSpanProcessor(exporter) exports a span on end() with its name, attributes and [s, ns] duration (epoch-ms times)", async () => {
    const exporter = new InMemorySpanExporter();
    const traces = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const end = Date.now();
    traces.getTracer("c").startSpan("agent.run", { startTime: end - 250, attributes: { "agent.outcome": "ok" } }).end(end);
    const [s] = exporter.getFinishedSpans();
    expect(s?.name).toBe("agent.run");
    expect(s?.attributes["agent.outcome"]).toBe("ok");
    expect(s?.duration).toEqual([0, 250_000_000]);
    await traces.shutdown();
  });

  it("an explicit sampler wins over OTEL_TRACES_SAMPLER in the environment", async () => {
    process.env["OTEL_TRACES_SAMPLER"] = "always_off";
    const exporter = new InMemorySpanExporter();
    const traces = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] });
    traces.getTracer("c").startSpan("agent.run").end();
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    await traces.shutdown();
  });

  it("PeriodicExportingMetricReader exports on forceFlush(): counter sums with attributes, histogram sums", async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
    const meters = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })] });
    const meter = meters.getMeter("c");
    meter.createCounter("agent.runs").add(1, { outcome: "ok" });
    meter.createHistogram("agent.run.duration").record(12);
    meter.createHistogram("agent.run.duration").record(30);
    await meters.forceFlush();
    const metrics = exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((s) => s.metrics));
    const runs = metrics.find((m) => m.descriptor.name === "agent.runs");
    expect(runs?.dataPointType).toBe(DataPointType.SUM);
    expect(runs?.dataPoints.map((p) => [p.value, p.attributes["outcome"]])).toEqual([[1, "ok"]]);
    const dur = metrics.find((m) => m.descriptor.name === "agent.run.duration");
    expect(dur?.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect((dur?.dataPoints[0]?.value as { sum: number; count: number }).sum).toBe(42);
    await meters.shutdown();
  });

  it("ExportResultCode.SUCCESS is what a custom exporter reports", () => {
    expect(ExportResultCode.SUCCESS).toBe(0);
  });
});
