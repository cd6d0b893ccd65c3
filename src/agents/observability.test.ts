import { describe, expect, it } from "vitest";
import { telemetryFor } from "./observability.js";

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
  it("none: counts only", () => {
    expect(telemetryFor("none", facts)).toEqual({ level: "none", runs: 1 });
  });
  it("metrics: counters and timings, no text", () => {
    const t = telemetryFor("metrics", facts);
    expect(t).toMatchObject({ outcome: "exit_nonzero", egress_connections: 2, bytes_in: 20, inference_calls: 1, egress_refused: 1 });
    expect(JSON.stringify(t)).not.toMatch(/Alice|hypertension/);
  });
  it("redacted: error lines with the input's strings and secret-shaped text removed", () => {
    const t = JSON.stringify(telemetryFor("redacted", facts));
    expect(t).toContain("Error: failed for");
    for (const leak of ["Alice", "Wonderland", "hypertension", "sk-abc", "a@b.test"]) expect(t).not.toContain(leak);
  });
  it("full: everything", () => {
    expect(JSON.stringify(telemetryFor("full", facts))).toContain("Alice Wonderland has hypertension");
  });
});
