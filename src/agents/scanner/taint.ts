/**
 * A small, flow-insensitive taint pass: an identifier is tainted when it is declared or
 * assigned from an expression that reads a source (sinks.ts isSource) or mentions a tainted
 * identifier, iterated to a fixpoint. Function parameters are not tracked through calls:
 * precision is traded for a rule a reviewer can read (docs/notes/agents.md lists the gap).
 */
import type { Node } from "acorn";
import { asNode, dottedName, walkAll, type AnyNode } from "./ast.js";
import { CONTRACT_ENV, isSource } from "./sinks.js";

function patternNames(p: unknown, out: string[]): void {
  const n = asNode(p);
  if (!n) return;
  if (n.type === "Identifier") out.push(String(n["name"]));
  else if (n.type === "ObjectPattern") for (const prop of n["properties"] as AnyNode[]) patternNames(prop["value"] ?? prop["argument"], out);
  else if (n.type === "ArrayPattern") for (const el of n["elements"] as unknown[]) patternNames(el, out);
  else if (n.type === "AssignmentPattern") patternNames(n["left"], out);
  else if (n.type === "RestElement") patternNames(n["argument"], out);
  else if (n.type === "VariableDeclaration") for (const d of n["declarations"] as AnyNode[]) patternNames(d["id"], out);
}

export function exprTainted(n: unknown, tainted: ReadonlySet<string>): boolean {
  const node = asNode(n);
  if (!node) return false;
  if (node.type === "MemberExpression") {
    const d = dottedName(node) ?? "";
    // process.env.NAME is judged by NAME: the contract variables are not secrets.
    if (d.startsWith("process.env.")) return !CONTRACT_ENV.has(d.slice("process.env.".length)) || exprTainted(node["property"], tainted);
  }
  if (isSource(node) || (node.type === "Identifier" && tainted.has(String(node["name"])))) return true;
  for (const [k, v] of Object.entries(node)) {
    if (k === "loc" || k === "start" || k === "end") continue;
    if (Array.isArray(v)) {
      if (v.some((x) => exprTainted(x, tainted))) return true;
    } else if (asNode(v) && exprTainted(v, tainted)) return true;
  }
  return false;
}

export function taintedIdentifiers(ast: Node): Set<string> {
  const flows: { lhs: string[]; rhs: unknown }[] = [];
  walkAll(ast, (n) => {
    if (n.type === "VariableDeclarator" && n["init"]) {
      const lhs: string[] = [];
      patternNames(n["id"], lhs);
      flows.push({ lhs, rhs: n["init"] });
    } else if (n.type === "AssignmentExpression") {
      const lhs: string[] = [];
      patternNames(n["left"], lhs);
      flows.push({ lhs, rhs: n["right"] });
    } else if (n.type === "ForOfStatement" || n.type === "ForInStatement") {
      const lhs: string[] = [];
      patternNames(n["left"], lhs);
      flows.push({ lhs, rhs: n["right"] });
    }
  });
  const tainted = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const f of flows) {
      if (f.lhs.every((x) => tainted.has(x))) continue;
      if (exprTainted(f.rhs, tainted)) for (const x of f.lhs) if (!tainted.has(x)) (tainted.add(x), (changed = true));
    }
  }
  return tainted;
}
