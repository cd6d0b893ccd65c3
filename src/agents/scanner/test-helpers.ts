/** For the scanner's tests: scan inline source under a manifest and keep one rule's findings. */
import { parseManifest } from "../manifest.js";
import { scanBundle, type ScanReport } from "./scan.js";
import type { Finding } from "./types.js";

export function scanSource(code: string, manifest: Record<string, unknown> = {}): ScanReport {
  return scanBundle(code, parseManifest({ name: "t", version: "1.0.0", entry: "i.js", ...manifest }), "0".repeat(64));
}

export function findingsOf(rule: string, code: string, manifest: Record<string, unknown> = {}): Finding[] {
  return scanSource(code, manifest).findings.filter((f) => f.rule === rule);
}
