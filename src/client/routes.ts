/**
 * Which requests the verifying fetch may send, decided from the URL alone before a byte
 * leaves (docs/protocol.md "Routes the client sends"). Paths are resolved against the
 * caller's baseURL, never searched for "/v1/": the baseURL stands for the node's "/v1",
 * whatever a proxy in front calls it ("…/openai", "…/v1/tenant/x/v1").
 *
 *   - any POST under the baseURL: sealed (E2E) or signature-checked, whatever the route;
 *   - a GET of one of a short public allowlist (model list, attestation report, health,
 *     the market's node directory),
 *     whose answers are shape-checked, and which carry no credential under E2E;
 *   - anything else (another origin, another method, a path outside the base, a GET of
 *     another route such as /v1/signature/<id>): refused with ROUTE_REFUSED.
 */
import { ClientError } from "../errors.js";
import { ClientCode } from "./codes.js";

export type RouteKind = "models" | "report" | "health" | "nodes";

export type RouteDecision =
  | { readonly kind: "protected"; readonly route: string }
  | { readonly kind: "public"; readonly which: RouteKind }
  | { readonly kind: "refused"; readonly reason: string };

export interface NodeBase {
  readonly origin: string;
  /** The baseURL's path without trailing slashes ("" for the origin root). */
  readonly path: string;
  /** Where /health lives: the base's parent (the node's root when the base is its /v1). */
  readonly healthPath: string;
}

export function nodeBase(baseURL: string): NodeBase {
  let u: URL;
  try {
    u = new URL(baseURL);
  } catch {
    throw new ClientError(ClientCode.INVALID_OPTIONS, "baseURL must be an absolute http(s) URL");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new ClientError(ClientCode.INVALID_OPTIONS, "baseURL must be an http(s) URL");
  if (u.search || u.hash || u.username || u.password) throw new ClientError(ClientCode.INVALID_OPTIONS, "baseURL must not carry a query, fragment or credentials");
  const path = u.pathname.replace(/\/+$/, "");
  return { origin: u.origin, path, healthPath: `${path.slice(0, path.lastIndexOf("/"))}/health` };
}

/** The node-side route ("/v1/…") of a URL under the base, or null when it is not under it. */
export function routeUnder(base: NodeBase, url: URL): string | null {
  if (url.origin !== base.origin) return null;
  const prefix = `${base.path}/`;
  if (!url.pathname.startsWith(prefix)) return null;
  const rest = url.pathname.slice(prefix.length);
  return rest ? `/v1/${rest}` : null;
}

export function classifyRequest(base: NodeBase, method: string, url: URL): RouteDecision {
  if (url.origin !== base.origin) return { kind: "refused", reason: `${url.origin} is not the attested node's origin` };
  const route = routeUnder(base, url);
  if (method === "POST") return route ? { kind: "protected", route } : { kind: "refused", reason: `POST ${url.pathname} is not under the baseURL` };
  if (method === "GET") {
    if (route === "/v1/models" && !url.search) return { kind: "public", which: "models" };
    if (route === "/v1/attestation/report") return { kind: "public", which: "report" };
    // The market's node directory (a hint: the client attests every node it uses).
    if (route === "/v1/nodes") return { kind: "public", which: "nodes" };
    if (url.pathname === base.healthPath && !url.search) return { kind: "public", which: "health" };
  }
  return { kind: "refused", reason: `${method} ${url.pathname} is neither a sealed request nor a public read` };
}
