/**
 * The one way anything about a run reaches the agent's developer: the run's telemetry is
 * recorded with the OpenTelemetry SDK and leaves only through the level filter
 * (telemetry/level-filter.ts); this file turns what passed into the stored record, with a
 * fixed schema per level (DESIGN.md "Agents"). Fields are chosen, never copied: nothing
 * from the agent's stdout, the input, or request bodies exists below `full`, and
 * `redacted` error lines have every string of the input (and anything shaped like a
 * secret) cut out.
 *
 *   none     — { runs: 1 }
 *   metrics  — + outcome, duration, egress counts and bytes, inference calls
 *   redacted — + up to 20 stderr lines, redacted
 *   full     — + stderr and output in full (only after the user accepted it)
 */
import type { ObservabilityLevel } from "./manifest.js";
import { LOG_OUTPUT, LOG_STDERR, type FilteredSink, type RunMetric } from "./telemetry/level-filter.js";
import { recordRun, type RunFacts } from "./telemetry/run-telemetry.js";

export type { RunFacts } from "./telemetry/run-telemetry.js";
export { redactLine } from "./telemetry/level-filter.js";

interface Metrics {
  readonly runs: 1;
  readonly outcome: string;
  readonly duration_ms: number;
  readonly egress_connections: number;
  readonly egress_refused: number;
  readonly bytes_out: number;
  readonly bytes_in: number;
  readonly inference_calls: number;
}

export type TelemetryRecord =
  | { readonly level: "none"; readonly runs: 1 }
  | ({ readonly level: "metrics" } & Metrics)
  | ({ readonly level: "redacted"; readonly errors: readonly string[] } & Metrics)
  | ({ readonly level: "full"; readonly stderr: string; readonly output: string } & Metrics);

function metricsOf(sink: FilteredSink): Metrics {
  const v = (n: RunMetric): number => sink.metrics.filter((m) => m.name === n).reduce((a, m) => a + m.value, 0);
  return {
    runs: 1,
    outcome: sink.metrics.find((m) => m.name === "agent.runs")?.outcome ?? "unknown",
    duration_ms: Math.round(v("agent.run.duration")),
    egress_connections: v("agent.egress.connections"),
    egress_refused: v("agent.egress.refused"),
    bytes_out: v("agent.egress.bytes_out"),
    bytes_in: v("agent.egress.bytes_in"),
    inference_calls: v("agent.inference.calls"),
  };
}

export async function telemetryFor(level: ObservabilityLevel, f: RunFacts): Promise<TelemetryRecord> {
  const sink = await recordRun(level, f);
  if (level === "none") return { level, runs: 1 };
  const metrics = metricsOf(sink);
  if (level === "metrics") return { level, ...metrics };
  const bodies = (event: string): string[] => sink.logs.filter((l) => l.event === event).map((l) => l.body);
  if (level === "redacted") return { level, ...metrics, errors: bodies(LOG_STDERR) };
  return { level, ...metrics, stderr: bodies(LOG_STDERR).join("\n"), output: bodies(LOG_OUTPUT).join("") };
}
