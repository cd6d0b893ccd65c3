/** Capabilities by callee (module-resolved dotted names), shared by the rules. */
import { asNode, dottedName, resolvedCallee, stringValue, type AnyNode } from "./ast.js";

const NETWORK = /^(fetch|globalThis\.fetch|window\.fetch|(http|https|http2)\.(request|get|connect)|net\.(connect|createConnection)|tls\.connect|dgram\.createSocket|undici\.(request|fetch|stream)|WebSocket|XMLHttpRequest|dns\.(resolve\w*|lookup)|dns\/promises\.(resolve\w*|lookup)|dns\.promises\.\w+)$/;
const FILES = /^(fs|fs\/promises|fs\.promises)\.(writeFile|writeFileSync|appendFile|appendFileSync|createWriteStream|write|writeSync)$/;
const LOGS = /^(console\.(error|warn|trace)|process\.stderr\.write)$/;
const SPAWN = /^(child_process\.(spawn|spawnSync|exec|execSync|execFile|execFileSync|fork)|process\.(binding|dlopen|_linkedBinding)|Bun\.spawn|Deno\.run)$/;

export type SinkKind = "network" | "file" | "log" | "spawn";

export function sinkKind(call: AnyNode, bindings: Map<string, string>): SinkKind | null {
  const name = call.type === "NewExpression" ? dottedName(call["callee"]) : resolvedCallee(call["callee"], bindings);
  if (!name) return null;
  if (NETWORK.test(name)) return "network";
  if (FILES.test(name)) return "file";
  if (LOGS.test(name)) return "log";
  if (SPAWN.test(name)) return "spawn";
  return null;
}

/** Env names that are the agent contract (the placeholder key, the node's URL), not secrets. */
export const CONTRACT_ENV = new Set(["OPENAI_BASE_URL", "OPENAI_API_KEY", "HTTPS_PROXY", "https_proxy", "CLOISTER_EGRESS_SOCKET", "CLOISTER_EGRESS_PORT", "CLOISTER_RUN_ID", "NODE_ENV"]);

/** Is this expression a read of user input, a secret, or the environment? */
export function isSource(n: unknown): boolean {
  const node = asNode(n);
  if (!node) return false;
  if (node.type === "MemberExpression") {
    const d = dottedName(node) ?? "";
    if (d === "process.env") return true;
    if (d.startsWith("process.env.")) return !CONTRACT_ENV.has(d.slice("process.env.".length));
    if (d === "process.stdin" || d.startsWith("process.stdin.")) return true;
  }
  if (node.type === "CallExpression") {
    const d = dottedName(node["callee"]) ?? "";
    const a0 = (node["arguments"] as unknown[])[0];
    if (/readFileSync$|readFile$/.test(d) && (asNode(a0)?.["value"] === 0 || stringValue(a0) === "/dev/stdin")) return true;
  }
  return false;
}
