/**
 * User input, secrets or the environment reaching a network call, a file write or a log
 * (stderr): the exfiltration shape. Inference through the `openai` client is the agent
 * contract and is not a sink here; stdout is the agent's answer and is not a log.
 */
import { egressAllows, egressRules } from "../../manifest.js";
import { canonicalAuthority } from "../../egress/host.js";
import { exprTainted } from "../taint.js";
import { stringValue, walkAll } from "../ast.js";
import { sinkKind } from "../sinks.js";
import type { Rule, RuleHit } from "../types.js";

export const taintedFlow: Rule = {
  id: "tainted-flow",
  description: "input, secrets or environment flow into the network, files or logs",
  check(ctx) {
    const hits: RuleHit[] = [];
    const rules = egressRules(ctx.manifest);
    // Input sent to a literal URL on a declared host is what the manifest announced: worth a look, not an alarm.
    const declaredLiteral = (a: unknown): boolean => {
      const m = /^https:\/\/([^/?#]+)/i.exec(stringValue(a) ?? "");
      const auth = m?.[1] ? canonicalAuthority(m[1], 443) : null;
      return auth !== null && auth.ok && !auth.ip && egressAllows(rules, auth.host, auth.port);
    };
    walkAll(ctx.ast, (n) => {
      if (n.type !== "CallExpression" && n.type !== "NewExpression") return;
      const kind = sinkKind(n, ctx.bindings);
      if (kind !== "network" && kind !== "file" && kind !== "log") return;
      const args = n["arguments"] as unknown[];
      if (args.some((a) => exprTainted(a, ctx.tainted))) {
        const declared = kind === "network" && declaredLiteral(args[0]);
        hits.push({ node: n, severity: declared ? "medium" : "high", message: declared ? "input reaches a declared host (the manifest announces this egress)" : `input, secrets or environment flow into a ${kind === "log" ? "log (stderr)" : kind === "file" ? "file write" : "network call"}` });
      }
    });
    return hits;
  },
};
