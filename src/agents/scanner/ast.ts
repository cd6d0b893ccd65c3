/**
 * Small AST helpers shared by the rules (ESTree via acorn): names of callees as dotted
 * paths, literal string values, and which local names are bound to a Node module.
 */
import type { Node } from "acorn";
import { full } from "acorn-walk";

export type AnyNode = Node & Record<string, unknown>;

export function asNode(v: unknown): AnyNode | null {
  return v && typeof v === "object" && typeof (v as { type?: unknown }).type === "string" ? (v as AnyNode) : null;
}

/** `a.b.c` for member chains of identifiers (computed string keys included), else null. */
export function dottedName(n: unknown): string | null {
  const node = asNode(n);
  if (!node) return null;
  if (node.type === "Identifier") return String(node["name"]);
  if (node.type === "MetaProperty") return "import.meta";
  if (node.type === "MemberExpression") {
    const obj = dottedName(node["object"]);
    const prop = asNode(node["property"]);
    if (!obj || !prop) return null;
    if (!node["computed"] && prop.type === "Identifier") return `${obj}.${String(prop["name"])}`;
    const lit = stringValue(prop);
    return lit !== null ? `${obj}.${lit}` : `${obj}.[]`;
  }
  if (node.type === "ChainExpression") return dottedName(node["expression"]);
  return null;
}

export function stringValue(n: unknown): string | null {
  const node = asNode(n);
  if (!node) return null;
  if (node.type === "Literal" && typeof node["value"] === "string") return node["value"];
  if (node.type === "TemplateLiteral" && (node["expressions"] as unknown[]).length === 0) {
    return String(((node["quasis"] as AnyNode[])[0]?.["value"] as { cooked?: string } | undefined)?.cooked ?? "");
  }
  return null;
}

export function walkAll(ast: Node, visit: (n: AnyNode) => void): void {
  full(ast, (n) => visit(n as AnyNode));
}

/**
 * Local names bound to a module: `import x from "node:fs"`, `import * as x`, `import { spawn }`
 * (bound as `module.spawn`), `const x = require("fs")`, `const { spawn } = require(...)`.
 * Returns local name → dotted path with the module name normalised (no `node:`).
 */
export function moduleBindings(ast: Node): Map<string, string> {
  const out = new Map<string, string>();
  const norm = (s: string): string => s.replace(/^node:/, "");
  walkAll(ast, (n) => {
    if (n.type === "ImportDeclaration") {
      const mod = norm(String((n["source"] as AnyNode)["value"]));
      for (const s of n["specifiers"] as AnyNode[]) {
        const local = String((s["local"] as AnyNode)["name"]);
        if (s.type === "ImportSpecifier") out.set(local, `${mod}.${String((s["imported"] as AnyNode)["name"] ?? (s["imported"] as AnyNode)["value"])}`);
        else out.set(local, mod);
      }
    }
    if (n.type === "VariableDeclarator") {
      const init = asNode(n["init"]);
      const callee = init?.type === "CallExpression" ? dottedName(init["callee"]) : null;
      const args = init?.["arguments"] as unknown[] | undefined;
      const mod = callee === "require" || callee === "__require" ? stringValue(args?.[0]) : null;
      if (!mod) return;
      const id = n["id"] as AnyNode;
      if (id.type === "Identifier") out.set(String(id["name"]), norm(mod));
      if (id.type === "ObjectPattern") {
        for (const p of id["properties"] as AnyNode[]) {
          const key = asNode(p["key"]);
          const val = asNode(p["value"]);
          if (key?.type === "Identifier" && val?.type === "Identifier") out.set(String(val["name"]), `${norm(mod)}.${String(key["name"])}`);
        }
      }
    }
  });
  return out;
}

/** The callee's dotted name with its first segment resolved through module bindings. */
export function resolvedCallee(callee: unknown, bindings: Map<string, string>): string | null {
  const d = dottedName(callee);
  if (!d) return null;
  const [head, ...rest] = d.split(".");
  const bound = head !== undefined ? bindings.get(head) : undefined;
  return bound ? [bound, ...rest].join(".") : d;
}
