import { SeverityNumber } from "@opentelemetry/api-logs";
import { LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { telemetryFor } from "./observability.js";
import { FilteredSink, LevelFilterLogExporter, LevelFilterMetricExporter, LevelFilterSpanExporter, LOG_OUTPUT, LOG_STDERR } from "./telemetry/level-filter.js";

const input = Buffer.from(JSON.stringify({ patient: "Alice Wonderland", note: "diagnosis: hypertension", mrn: 12345678 }));
const facts = {
  outcome: "exit_nonzero",
  durationMs: 12.3,
  egress: [{ host: "api.example.com", port: 443, connections: 2, bytesOut: 10, bytesIn: 20 }, { host: "inference", port: 0, connections: 1, bytesOut: 5, bytesIn: 6 }],
  refused: 1,
  input,
  output: Buffer.from("Alice Wonderland has hypertension"),
  stderr: Buffer.from("Error: failed for Alice Wonderland (hypertension) key sk-abcdefghijklmnop mail a@b.test\n"),
};

describe("observability filter", () => {
  it("none: counts only", async () => {
    expect(await telemetryFor("none", facts)).toEqual({ level: "none", runs: 1 });
  });
  it("metrics: counters and timings, no text", async () => {
    const t = await telemetryFor("metrics", facts);
    expect(t).toMatchObject({ outcome: "exit_nonzero", duration_ms: 12, egress_connections: 2, bytes_in: 20, inference_calls: 1, egress_refused: 1 });
    expect(JSON.stringify(t)).not.toMatch(/Alice|hypertension/);
  });
  it("redacted: error lines with the input's strings and secret-shaped text removed", async () => {
    const t = JSON.stringify(await telemetryFor("redacted", facts));
    expect(t).toContain("Error: failed for");
    for (const leak of ["Alice", "Wonderland", "hypertension", "sk-abc", "a@b.test"]) expect(t).not.toContain(leak);
  });
  it("full: everything", async () => {
    const t = JSON.stringify(await telemetryFor("full", facts));
    expect(t).toContain("Alice Wonderland has hypertension");
    expect(t).toContain("sk-abcdefghijklmnop");
  });
});

describe("the level filter as the OpenTelemetry exporter", () => {
  // Telemetry the run's code did not mean to send (an instrument, attribute or log it never
  // declared, carrying the input) must not pass at any level below `full`, nor unknown names at all.
  async function leakAttempt(level: "none" | "metrics" | "redacted" | "full"): Promise<FilteredSink> {
    const sink = new FilteredSink();
    const logs = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: new LevelFilterLogExporter(level, sink, ["Alice"]) })] });
    const traces = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new LevelFilterSpanExporter(level, sink))] });
    const reader = new PeriodicExportingMetricReader({ exporter: new LevelFilterMetricExporter(level, sink), exportIntervalMillis: 3_600_000 });
    const meters = new MeterProvider({ readers: [reader] });
    meters.getMeter("x").createCounter("agent.runs").add(1, { outcome: "ok", patient: "Alice" });
    meters.getMeter("x").createCounter("patient.Alice").add(7);
    traces.getTracer("x").startSpan("agent.run", { attributes: { "agent.outcome": "ok", input: "Alice" } }).end();
    traces.getTracer("x").startSpan("Alice").end();
    logs.getLogger("x").emit({ severityNumber: SeverityNumber.ERROR, body: "Alice crashed", attributes: { event: LOG_STDERR, input: "Alice" } });
    logs.getLogger("x").emit({ severityNumber: SeverityNumber.INFO, body: "Alice chatty", attributes: { event: LOG_STDERR } });
    logs.getLogger("x").emit({ severityNumber: SeverityNumber.ERROR, body: "Alice", attributes: { event: "debug" } });
    logs.getLogger("x").emit({ body: "Alice output", attributes: { event: LOG_OUTPUT } });
    await meters.forceFlush();
    await Promise.all([logs.shutdown(), traces.shutdown(), meters.shutdown()]);
    return sink;
  }

  it("rebuilds each signal into the level's fixed schema and drops what the schema does not name", async () => {
    const none = await leakAttempt("none");
    expect(none).toEqual({ metrics: [{ name: "agent.runs", value: 1 }], spans: [], logs: [] });
    const metrics = await leakAttempt("metrics");
    expect(JSON.stringify(metrics)).not.toContain("Alice");
    expect(metrics.spans).toEqual([{ name: "agent.run", duration_ms: expect.any(Number) as number, outcome: "ok" }]);
    const redacted = await leakAttempt("redacted");
    expect(redacted.logs).toEqual([{ event: LOG_STDERR, body: "[input] crashed" }]);
    expect(JSON.stringify(redacted)).not.toContain("Alice");
    const full = await leakAttempt("full");
    expect(full.logs.map((l) => l.body)).toEqual(["Alice crashed", "Alice chatty", "Alice output"]);
    expect(full.metrics.map((m) => m.name)).toEqual(["agent.runs"]);
  });
});
