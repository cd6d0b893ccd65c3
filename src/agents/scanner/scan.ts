/**
 * The scanner (runs on publish; its report is stored beside the version and shown before
 * a run). Parses the bundle once with acorn, maps each node back to the module esbuild
 * wrote it from (`// path` comments above each module in unminified output), and runs
 * every rule. The verdict: a high finding in the developer's own code → "dangerous", any
 * finding there → "review", else "clean"; dependency findings are listed, marked
 * third_party, and do not set the verdict (docs/notes/agents.md says why and what's left).
 * An LLM may later explain a finding; nothing here asks one to decide.
 */
import { parse, type Node } from "acorn";
import { hashJson } from "../canonical.js";
import type { AgentManifest } from "../manifest.js";
import type { Sha256 } from "../../types.js";
import { moduleBindings } from "./ast.js";
import { taintedIdentifiers } from "./taint.js";
import type { Finding, Rule, ScanContext } from "./types.js";
import { dynamicCode } from "./rules/dynamic-code.js";
import { envSerialisation } from "./rules/env-serialisation.js";
import { obfuscation } from "./rules/obfuscation.js";
import { processSpawn } from "./rules/process-spawn.js";
import { taintedFlow } from "./rules/tainted-flow.js";
import { undeclaredHost } from "./rules/undeclared-host.js";

export const SCANNER_VERSION = "cloister-scan/1";
export const RULES: readonly Rule[] = [undeclaredHost, taintedFlow, dynamicCode, processSpawn, envSerialisation, obfuscation];

export type Verdict = "clean" | "review" | "dangerous";

export interface ScanReport {
  readonly format: "cloister-agent-scan/v1";
  readonly scanner: string;
  readonly bundle_sha256: string;
  readonly verdict: Verdict;
  readonly findings: readonly Finding[];
  /** Packages esbuild inlined (from node_modules paths). */
  readonly dependencies: readonly string[];
  readonly parse_error: string | null;
}

interface ModuleSpan {
  readonly file: string;
  readonly startLine: number;
}

function moduleSpans(code: string): ModuleSpan[] {
  const spans: ModuleSpan[] = [{ file: "agent.mjs", startLine: 1 }];
  code.split("\n").forEach((line, i) => {
    const m = /^\/\/ ((?:[\w@.~-]+\/)*[\w@.~-]+\.(?:[cm]?[jt]sx?|json))$/.exec(line);
    if (m?.[1]) spans.push({ file: m[1], startLine: i + 2 });
  });
  return spans;
}

function packageOf(file: string): string | null {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  return m?.[1] ?? null;
}

export function scanBundle(code: string, manifest: AgentManifest, bundleSha256: string): ScanReport {
  let ast: Node;
  try {
    ast = parse(code, { ecmaVersion: "latest", sourceType: "module", locations: true, allowHashBang: true, allowAwaitOutsideFunction: true });
  } catch (e) {
    // Code we cannot parse is code we cannot vouch for.
    const message = e instanceof Error ? e.message : String(e);
    return { format: "cloister-agent-scan/v1", scanner: SCANNER_VERSION, bundle_sha256: bundleSha256, verdict: "dangerous", findings: [], dependencies: [], parse_error: message };
  }
  const spans = moduleSpans(code);
  const where = (node: Node): { file: string; line: number; thirdParty: boolean } => {
    const line = node.loc?.start.line ?? 1;
    let span = spans[0] as ModuleSpan;
    for (const s of spans) if (s.startLine <= line) span = s;
    return { file: span.file, line: line - span.startLine + 1, thirdParty: span.file.includes("node_modules/") };
  };
  const ctx: ScanContext = { manifest, ast, bindings: moduleBindings(ast), tainted: taintedIdentifiers(ast), where };
  const findings: Finding[] = [];
  for (const rule of RULES) {
    for (const hit of rule.check(ctx)) {
      const w = where(hit.node);
      findings.push({ rule: rule.id, severity: hit.severity, message: hit.message, file: w.file, line: w.line, third_party: w.thirdParty });
    }
  }
  const own = findings.filter((f) => !f.third_party);
  const verdict: Verdict = own.some((f) => f.severity === "high") ? "dangerous" : own.length ? "review" : "clean";
  const dependencies = [...new Set(spans.map((s) => packageOf(s.file)).filter((p): p is string => p !== null))].sort();
  return { format: "cloister-agent-scan/v1", scanner: SCANNER_VERSION, bundle_sha256: bundleSha256, verdict, findings, dependencies, parse_error: null };
}

export function reportHash(r: ScanReport): Sha256 {
  return hashJson(r);
}
