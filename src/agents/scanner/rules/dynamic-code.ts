/** eval, Function, vm, non-literal dynamic import or require: code the scanner cannot see. */
import { dottedName, resolvedCallee, stringValue, walkAll } from "../ast.js";
import type { Rule, RuleHit } from "../types.js";

const VM = /^vm\.(runInNewContext|runInThisContext|runInContext|compileFunction|Script|SourceTextModule)$/;

export const dynamicCode: Rule = {
  id: "dynamic-code",
  description: "eval, Function, vm or a computed import/require",
  check(ctx) {
    const hits: RuleHit[] = [];
    walkAll(ctx.ast, (n) => {
      if (n.type === "CallExpression" || n.type === "NewExpression") {
        const name = resolvedCallee(n["callee"], ctx.bindings) ?? dottedName(n["callee"]);
        if (name === "eval" || name === "globalThis.eval" || name === "Function" || name === "globalThis.Function") hits.push({ node: n, severity: "high", message: `${name}() runs code built at run time` });
        else if (name && VM.test(name)) hits.push({ node: n, severity: "high", message: `${name} runs code built at run time` });
        else if ((name === "require" || name === "__require") && stringValue((n["arguments"] as unknown[])[0]) === null) hits.push({ node: n, severity: "high", message: "require() of a computed module name" });
      }
      if (n.type === "ImportExpression" && stringValue(n["source"]) === null) hits.push({ node: n, severity: "high", message: "import() of a computed module name" });
    });
    return hits;
  },
};
