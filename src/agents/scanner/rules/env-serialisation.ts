/** The whole environment turned into data: JSON.stringify(process.env), Object.keys/entries, spreads, for-in. */
import { dottedName, walkAll } from "../ast.js";
import type { Rule, RuleHit } from "../types.js";

const SERIALISERS = new Set(["JSON.stringify", "Object.keys", "Object.entries", "Object.values", "Object.assign", "structuredClone", "util.inspect"]);

export const envSerialisation: Rule = {
  id: "env-serialisation",
  description: "serialises or enumerates the whole environment",
  check(ctx) {
    const hits: RuleHit[] = [];
    walkAll(ctx.ast, (n) => {
      if (n.type === "CallExpression" && SERIALISERS.has(dottedName(n["callee"]) ?? "") && (n["arguments"] as unknown[]).some((a) => dottedName(a) === "process.env")) {
        hits.push({ node: n, severity: "high", message: `${dottedName(n["callee"])}(process.env) enumerates every environment variable` });
      }
      if (n.type === "SpreadElement" && dottedName(n["argument"]) === "process.env") hits.push({ node: n, severity: "high", message: "...process.env copies every environment variable" });
      if (n.type === "ForInStatement" && dottedName(n["right"]) === "process.env") hits.push({ node: n, severity: "high", message: "for-in over process.env enumerates every environment variable" });
    });
    return hits;
  },
};
