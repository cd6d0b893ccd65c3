/**
 * Encoding that hides intent: long base64 or hex blobs, decoding literals at run time
 * (atob, Buffer.from(..., "base64"|"hex")), String.fromCharCode runs, and host names
 * built from pieces (concatenation or join with a TLD-like piece) that reach the network.
 */
import { dottedName, stringValue, walkAll, type AnyNode } from "../ast.js";
import { sinkKind } from "../sinks.js";
import type { Rule, RuleHit } from "../types.js";

const B64_BLOB = /^[A-Za-z0-9+/]{80,}={0,2}$/;
const HEX_BLOB = /^(?:[0-9a-fA-F]{2}){48,}$/;
const TLD_PIECE = /^\.?[a-z0-9-]*\.(com|net|org|io|xyz|ru|cn|top|site|app|dev|me|co|info|biz|tk|sh|link|click)(:\d+)?\/?$|^https?:\/\/$|^\.$/i;

function builtString(n: unknown): boolean {
  const node = n as AnyNode | null;
  if (!node) return false;
  const pieces: string[] = [];
  let dynamic = false;
  const collect = (x: AnyNode): void => {
    if (x.type === "BinaryExpression" && x["operator"] === "+") {
      collect(x["left"] as AnyNode);
      collect(x["right"] as AnyNode);
    } else {
      const s = stringValue(x);
      if (s !== null) pieces.push(s);
      else dynamic = true;
    }
  };
  if (node.type === "BinaryExpression") collect(node);
  else if (node.type === "CallExpression" && dottedName((node["callee"] as AnyNode)) !== null && /\.join$/.test(dottedName(node["callee"]) ?? "")) {
    const arr = (node["callee"] as AnyNode)["object"] as AnyNode;
    if (arr.type === "ArrayExpression") for (const el of arr["elements"] as AnyNode[]) (stringValue(el) !== null ? pieces.push(stringValue(el) ?? "") : (dynamic = true));
    if (stringValue((node["arguments"] as unknown[])[0]) === ".") pieces.push(".com");
  } else return false;
  return pieces.length >= 2 && pieces.some((p) => TLD_PIECE.test(p)) && (dynamic || pieces.length >= 2);
}

export const obfuscation: Rule = {
  id: "obfuscation",
  description: "encoded blobs, run-time decoding, or host names built from pieces",
  check(ctx) {
    const hits: RuleHit[] = [];
    walkAll(ctx.ast, (n) => {
      const s = n.type === "Literal" ? stringValue(n) : null;
      if (s !== null && (B64_BLOB.test(s) || HEX_BLOB.test(s))) hits.push({ node: n, severity: "medium", message: `a ${s.length}-character encoded blob` });
      if (n.type === "CallExpression") {
        const name = dottedName(n["callee"]) ?? "";
        const args = n["arguments"] as unknown[];
        const enc = stringValue(args[1]);
        if ((name === "atob" || (name === "Buffer.from" && (enc === "base64" || enc === "hex" || enc === "base64url"))) && stringValue(args[0]) !== null) {
          hits.push({ node: n, severity: "high", message: `${name} decodes a literal at run time` });
        }
        if (name === "String.fromCharCode" && args.length >= 6) hits.push({ node: n, severity: "high", message: "String.fromCharCode builds a string from character codes" });
        const kind = sinkKind(n, ctx.bindings);
        if (kind === "network" && args.some(builtString)) hits.push({ node: n, severity: "high", message: "a host name or URL built from pieces reaches a network call" });
      }
    });
    return hits;
  },
};
