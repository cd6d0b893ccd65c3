/** Starting other programs (child_process, process.binding, native addons). */
import { walkAll, type AnyNode } from "../ast.js";
import { sinkKind } from "../sinks.js";
import type { Rule, RuleHit } from "../types.js";

export const processSpawn: Rule = {
  id: "process-spawn",
  description: "spawns processes or loads native code",
  check(ctx) {
    const hits: RuleHit[] = [];
    walkAll(ctx.ast, (n: AnyNode) => {
      if ((n.type === "CallExpression" || n.type === "NewExpression") && sinkKind(n, ctx.bindings) === "spawn") hits.push({ node: n, severity: "high", message: "starts another program or loads native code" });
    });
    return hits;
  },
};
