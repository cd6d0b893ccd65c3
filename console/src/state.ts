/**
 * What the pages share: the node this console talks to, the visitor's verification policy
 * and an optional API key (kept in sessionStorage only, never sent to another origin).
 * The hash (#/page?node=...&accept=simulated,tcb) carries node and policy so a link
 * reproduces a view.
 */
import type { BrowserPolicy } from "./verify/report.js";

export type Page = "verify" | "chat" | "market" | "models" | "agents" | "usage" | "record";
export const PAGES: readonly { id: Exclude<Page, "record">; label: string }[] = [
  { id: "verify", label: "Verify" },
  { id: "chat", label: "Chat" },
  { id: "market", label: "Market" },
  { id: "models", label: "Models" },
  { id: "agents", label: "Agents" },
  { id: "usage", label: "Usage" },
];

export interface Route {
  readonly page: Page;
  readonly params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const [path = "", query = ""] = hash.replace(/^#\/?/, "").split("?", 2);
  const page = (["verify", "chat", "market", "models", "agents", "usage", "record"] as const).find((p) => p === path) ?? "verify";
  return { page, params: new URLSearchParams(query) };
}

export function policyFrom(params: URLSearchParams): BrowserPolicy {
  const accept = new Set((params.get("accept") ?? "").split(",").filter(Boolean));
  return { allowSimulated: accept.has("simulated"), acceptTcbUnchecked: accept.has("tcb"), acceptGpuUnchecked: accept.has("gpu") };
}

export function acceptParam(p: BrowserPolicy): string {
  return [p.allowSimulated && "simulated", p.acceptTcbUnchecked && "tcb", p.acceptGpuUnchecked && "gpu"].filter(Boolean).join(",");
}

/** The node: ?node= in the hash, else the origin that served this page when it is a node's /console. */
export function defaultNode(params: URLSearchParams): string {
  const given = params.get("node");
  if (given) return given;
  return location.pathname.startsWith("/console") ? location.origin : "";
}

export function hashFor(page: Page, node: string, policy: BrowserPolicy, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  if (node) q.set("node", node);
  const a = acceptParam(policy);
  if (a) q.set("accept", a);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  const s = q.toString();
  return `#/${page}${s ? `?${s}` : ""}`;
}

const KEY_SLOT = "cloister.console.apiKey";
export function loadApiKey(): string {
  return globalThis.sessionStorage?.getItem(KEY_SLOT) ?? "";
}
export function saveApiKey(k: string): void {
  if (k) globalThis.sessionStorage?.setItem(KEY_SLOT, k);
  else globalThis.sessionStorage?.removeItem(KEY_SLOT);
}
