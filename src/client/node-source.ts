/**
 * Where the discovering client learns which nodes exist: the registry's events read
 * straight from the chain (through the Chain interface), or any node's GET /v1/nodes
 * (served from its indexer). Either way the list is a HINT, never trust: the client attests
 * every node itself before sending it anything (./discovering-fetch.ts).
 */
import { ClientError } from "../errors.js";
import type { Chain } from "../ledger/chain.js";
import { rankNodes, type LatLon } from "../ledger/discovery.js";
import { modelIdOf, NODES_MAX_LIMIT, toWireNode, wireNodeListSchema, type WireNode } from "../ledger/nodes-wire.js";
import { ClientCode } from "./codes.js";
import { nodeBase } from "./routes.js";

export interface NodeQuery {
  /** The model's name as the API serves it. */
  readonly model: string;
  readonly near?: LatLon;
  readonly limit: number;
}

export interface NodeSource {
  /** Active, unexpired registrations serving the model, nearest first when `near` is given. */
  list(q: NodeQuery): Promise<readonly WireNode[]>;
}

/** The part of Chain the client needs: the registry's events and chain time (expiry is judged by the chain's clock). */
export type DiscoveryChain = Pick<Chain, "nodeEvents" | "blockNumber" | "chainTime">;

/** Reads the registry's events from `fromBlock` (the market's deploy block; default 0) on every call. */
export function chainNodeSource(chain: DiscoveryChain, o: { fromBlock?: bigint } = {}): NodeSource {
  return {
    async list(q) {
      let ranked;
      try {
        const head = await chain.blockNumber();
        const [nodes, nowSeconds] = await Promise.all([chain.nodeEvents(o.fromBlock ?? 0n, head), chain.chainTime()]);
        ranked = rankNodes(nodes, { model: modelIdOf(q.model), ...(q.near ? { near: q.near } : {}), nowSeconds });
      } catch (cause) {
        throw new ClientError(ClientCode.DISCOVERY_UNAVAILABLE, "could not read the node registry from the chain", { cause });
      }
      const names = new Map([[modelIdOf(q.model), q.model]]);
      return ranked.slice(0, q.limit).map((c) => toWireNode(c, names));
    },
  };
}

/** Asks a node's GET /v1/nodes (`baseURL` is its OpenAI base, ".../v1"); the answer is shape-checked. */
export function directoryNodeSource(baseURL: string, o: { fetch?: typeof fetch; timeoutMs?: number } = {}): NodeSource {
  const base = nodeBase(baseURL);
  const network = o.fetch ?? globalThis.fetch.bind(globalThis);
  return {
    async list(q) {
      const u = new URL(`${base.origin}${base.path}/nodes`);
      u.searchParams.set("model", q.model);
      if (q.near) u.searchParams.set("near", `${q.near.lat},${q.near.lon}`);
      u.searchParams.set("limit", String(Math.min(q.limit, NODES_MAX_LIMIT)));
      let text: string;
      try {
        const res = await network(u.toString(), { redirect: "manual", signal: AbortSignal.timeout(o.timeoutMs ?? 5000) });
        if (res.status !== 200) {
          await res.body?.cancel().catch(() => {});
          throw new ClientError(ClientCode.DISCOVERY_UNAVAILABLE, `the node directory answered HTTP ${res.status}`, { details: { status: res.status } });
        }
        text = await res.text();
      } catch (cause) {
        if (cause instanceof ClientError) throw cause;
        throw new ClientError(ClientCode.DISCOVERY_UNAVAILABLE, `could not reach the node directory at ${base.origin}`, { cause });
      }
      return parseNodeList(text).data;
    },
  };
}

/** Throws PUBLIC_ANSWER_INVALID unless `text` is a GET /v1/nodes answer. */
export function parseNodeList(text: string): { data: readonly WireNode[]; indexedBlock: number; finalizedBlock: number } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ClientError(ClientCode.PUBLIC_ANSWER_INVALID, "the nodes answer is not JSON");
  }
  const r = wireNodeListSchema.safeParse(v);
  if (!r.success) throw new ClientError(ClientCode.PUBLIC_ANSWER_INVALID, "the nodes answer does not have the shape of one");
  return r.data;
}
