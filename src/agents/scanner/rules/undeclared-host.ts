/**
 * Hosts the code names that the manifest does not declare: URL literals (`https://x/...`,
 * `wss://`), `host:` properties and literal first arguments of network calls. IP
 * literals are always findings (the manifest may only name hosts). The proxy would
 * refuse these at run time anyway; the finding tells a user what the code tries.
 */
import { egressAllows, egressRules } from "../../manifest.js";
import { canonicalAuthority } from "../../egress/host.js";
import { stringValue, walkAll, type AnyNode } from "../ast.js";
import { sinkKind } from "../sinks.js";
import type { Rule, RuleHit } from "../types.js";

const URL_RE = /\b(?:https?|wss?):\/\/([^\s/"'`?#]+)/gi;

export const undeclaredHost: Rule = {
  id: "undeclared-host",
  description: "code names a host the manifest does not declare",
  check(ctx) {
    const rules = egressRules(ctx.manifest);
    const hits: RuleHit[] = [];
    const judge = (node: AnyNode, authority: string, defaultPort: number): void => {
      const a = canonicalAuthority(authority.replace(/^.*@/, ""), defaultPort);
      if (!a.ok) return;
      if (a.host === "localhost" || a.host === "127.0.0.1" || a.host === "example.com" || a.host.endsWith(".example.com")) {
        if (!a.ip) return; // documentation names in comments-as-strings; loopback IPs fall through below
      }
      if (a.ip) hits.push({ node, severity: "high", message: `IP address ${a.host} in the code (egress may only name hosts)` });
      else if (!egressAllows(rules, a.host, a.port)) hits.push({ node, severity: "high", message: `contacts ${a.host}:${a.port}, which the manifest does not declare` });
    };
    walkAll(ctx.ast, (n) => {
      const s = stringValue(n);
      if (s !== null) {
        for (const m of s.matchAll(URL_RE)) judge(n, m[1] ?? "", /^(http|ws):/i.test(m[0]) ? 80 : 443);
      }
      if (n.type === "Property" && stringValue(n["key"]) === null && (n["key"] as AnyNode)["name"] === "host") {
        const v = stringValue(n["value"]);
        if (v && !/^[a-z]+:\/\//i.test(v)) judge(n, v.includes(":") ? v : `${v}:443`, 443);
      }
      if ((n.type === "CallExpression" || n.type === "NewExpression") && sinkKind(n, ctx.bindings) === "network") {
        const a0 = stringValue((n["arguments"] as unknown[])[0]);
        if (a0 && !/^[a-z]+:\/\//i.test(a0) && /^[a-z0-9.-]+\.[a-z]{2,}$/i.test(a0)) judge(n, `${a0}:443`, 443);
      }
    });
    return hits;
  },
};
