/**
 * Scanner types. A finding names the rule, how bad it is, the file (the module path
 * esbuild wrote above each module of the bundle) and the line inside that module.
 */
import type { Node } from "acorn";
import type { AgentManifest } from "../manifest.js";

export type Severity = "low" | "medium" | "high";

export interface Finding {
  readonly rule: string;
  readonly severity: Severity;
  readonly message: string;
  readonly file: string;
  readonly line: number;
  /** In a dependency (node_modules), not the developer's own code. */
  readonly third_party: boolean;
}

export interface ScanContext {
  readonly manifest: AgentManifest;
  readonly ast: Node;
  /** Local name -> module path (`cp` -> `child_process`, `spawn` -> `child_process.spawn`). */
  readonly bindings: Map<string, string>;
  /** Identifiers holding user input, secrets or environment (taint.ts). */
  readonly tainted: ReadonlySet<string>;
  /** Where a node sits: module path and line within it. */
  where(node: Node): { file: string; line: number; thirdParty: boolean };
}

export interface Rule {
  readonly id: string;
  readonly description: string;
  check(ctx: ScanContext): RuleHit[];
}

export interface RuleHit {
  readonly node: Node;
  readonly severity: Severity;
  readonly message: string;
}
