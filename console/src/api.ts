/**
 * Everything the console reads from a node, in one typed module: the public API only
 * (docs/protocol.md). When a route changes shape, this file is the one to change. Every
 * answer is checked for the fields the pages use; anything else is an ApiError.
 */

import { wireNodeSchema, type WireNode, type WireNodeModel } from "../../src/ledger/nodes-wire.js";

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/** "https://n.example/", "https://n.example/v1" → "https://n.example". */
export function nodeOrigin(input: string): string {
  const u = new URL(input.trim());
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new ApiError("bad_url", "a node URL starts with https:// (or http:// for a local node)");
  return `${u.origin}${u.pathname.replace(/\/+$/, "").replace(/\/v1$/, "")}`;
}

async function getJson(url: string, apiKey?: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {}, redirect: "error" });
  } catch {
    throw new ApiError("unreachable", `could not reach ${new URL(url).origin} (offline, wrong address, or the node does not allow this page's origin: CORS)`);
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw new ApiError("not_json", `${new URL(url).pathname} answered HTTP ${res.status} with something that is not JSON`, res.status);
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    throw new ApiError(typeof e?.code === "string" ? e.code : `http_${res.status}`, typeof e?.message === "string" ? e.message : `HTTP ${res.status}`, res.status);
  }
  return body;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
function listOf(v: unknown, what: string): Record<string, unknown>[] {
  if (!isObj(v) || !Array.isArray(v["data"])) throw new ApiError("bad_shape", `${what}: not a list`);
  return v["data"].filter(isObj);
}
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** 32 random bytes from Web Crypto, hex: the challenge the report must answer. */
export function freshNonce(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function fetchReport(node: string, nonce: string): Promise<unknown> {
  return getJson(`${node}/v1/attestation/report?nonce=${nonce}&signing_algo=ecdsa`);
}

export interface ModelEntry {
  readonly id: string;
  readonly ownedBy: string;
}

export async function listModels(node: string, apiKey?: string): Promise<ModelEntry[]> {
  return listOf(await getJson(`${node}/v1/models`, apiKey), "/v1/models").map((m) => ({ id: str(m["id"]), ownedBy: str(m["owned_by"]) }));
}

/** GET /v1/nodes (discovery): the node's own wire definition (src/ledger/nodes-wire.ts). */
export type NodeModel = WireNodeModel;
export type MarketNode = WireNode;

export interface NodeList {
  readonly nodes: readonly MarketNode[];
  readonly indexedBlock: number | null;
  readonly finalizedBlock: number | null;
}

/** Entries that do not have the documented shape are dropped: a listing is only a hint, each node is verified by the browser itself. */
export async function listNodes(discovery: string): Promise<NodeList> {
  const body = await getJson(`${discovery}/v1/nodes`);
  const nodes = listOf(body, "/v1/nodes").flatMap((n): MarketNode[] => {
    const parsed = wireNodeSchema.safeParse(n);
    return parsed.success ? [parsed.data] : [];
  });
  const o = body as Record<string, unknown>;
  return { nodes, indexedBlock: num(o["indexedBlock"]), finalizedBlock: num(o["finalizedBlock"]) };
}

export interface AgentSummary {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly scannerVerdict: string;
}

export async function listAgents(node: string, apiKey?: string): Promise<AgentSummary[]> {
  return listOf(await getJson(`${node}/v1/agents`, apiKey), "/v1/agents").map((a) => ({
    name: str(a["name"]),
    version: str(a["version"]),
    description: str(a["description"]),
    scannerVerdict: str(a["scanner_verdict"]),
  }));
}

export interface ScanFinding {
  readonly rule: string;
  readonly severity: string;
  readonly message: string;
  readonly file: string;
  readonly line: number | null;
  /** In a bundled dependency rather than the developer's own code. */
  readonly thirdParty: boolean;
}

export interface AgentDetail {
  readonly name: string;
  readonly latest: string;
  readonly developerKey: string;
  readonly egress: readonly string[];
  readonly observability: string;
  readonly models: readonly string[];
  readonly verdict: string;
  readonly findings: readonly ScanFinding[];
  readonly bundleSha256: string;
}

export async function showAgent(node: string, name: string, apiKey?: string): Promise<AgentDetail> {
  const a = await getJson(`${node}/v1/agents/${encodeURIComponent(name)}`, apiKey);
  if (!isObj(a)) throw new ApiError("bad_shape", "agent: not an object");
  const m = isObj(a["manifest"]) ? a["manifest"] : {};
  const r = isObj(a["scanner_report"]) ? a["scanner_report"] : {};
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
  return {
    name: str(a["name"]),
    latest: str(a["latest"]),
    developerKey: str(a["developer_key"]),
    egress: strings(m["egress"]),
    observability: str(m["observability"]) || "none",
    models: strings(m["models"]),
    verdict: str(r["verdict"]),
    findings: (Array.isArray(r["findings"]) ? r["findings"].filter(isObj) : []).map((f) => ({ rule: str(f["rule"]), severity: str(f["severity"]), message: str(f["message"]), file: str(f["file"]), line: num(f["line"]), thirdParty: f["third_party"] === true })),
    bundleSha256: str(a["bundle_sha256"]),
  };
}

export interface ReceiptProof {
  readonly index: number;
  readonly treeSize: number;
  readonly signingAddress: string;
  readonly checkpoint: string;
}

/** GET /v1/receipts/:id (public): the exchange's place in this boot's receipt log. */
export async function fetchReceipt(node: string, requestId: string): Promise<ReceiptProof> {
  const r = await getJson(`${node}/v1/receipts/${encodeURIComponent(requestId)}`);
  if (!isObj(r)) throw new ApiError("bad_shape", "receipt: not an object");
  return { index: num(r["index"]) ?? -1, treeSize: num(r["tree_size"]) ?? 0, signingAddress: str(r["signing_address"]), checkpoint: str(r["checkpoint"]) };
}
