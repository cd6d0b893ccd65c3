/**
 * GET /v1/nodes?model=M&near=lat,lon[&limit=N] (docs/protocol.md "Node discovery"): the
 * market's registered, active, unexpired nodes from this node's registry indexer, nearest
 * first with `near`. Public and unsealed like /v1/models: a listing is a hint that clients
 * shape-check and never trust (they attest every node they use themselves).
 */
import type { Handler } from "hono";
import { GatewayError } from "../../errors.js";
import { parseLatLon, type Candidate, type LatLon } from "../../ledger/discovery.js";
import type { DiscoveryQuery, IndexStatus } from "../../ledger/indexer.js";
import { modelIdOf, NODES_DEFAULT_LIMIT, NODES_MAX_LIMIT, toWireNode, type WireNodeList } from "../../ledger/nodes-wire.js";
import type { GatewayEnv } from "../context.js";
import { GatewayCode } from "../errors.js";

/** What the route needs of the indexer (src/ledger/indexer.ts RegistryIndexer has it). */
export interface NodeDirectory {
  query(q: DiscoveryQuery): Candidate[];
  status(): IndexStatus;
}

const bad = (param: string, message: string): GatewayError => new GatewayError(400, GatewayCode.INVALID_PARAMS, message, { param });

export function nodesHandler(directory: NodeDirectory | undefined, knownModels: () => Promise<readonly string[]>): Handler<GatewayEnv> {
  return async (c) => {
    if (!directory) throw new GatewayError(404, GatewayCode.NOT_FOUND, "this node does not follow a market (start it with --chain-rpc)");
    const model = c.req.query("model");
    const nearText = c.req.query("near");
    const limitText = c.req.query("limit");
    if (model !== undefined && (model.length === 0 || model.length > 256 || /[\u0000-\u001f\u007f]/.test(model))) throw bad("model", "model must be 1-256 printable characters");
    let near: LatLon | undefined;
    if (nearText !== undefined) {
      const p = parseLatLon(nearText);
      if (!p) throw bad("near", "near must be lat,lon in degrees (-90..90, -180..180)");
      near = p;
    }
    let limit = NODES_DEFAULT_LIMIT;
    if (limitText !== undefined) {
      if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > NODES_MAX_LIMIT) throw bad("limit", `limit must be an integer from 1 to ${NODES_MAX_LIMIT}`);
      limit = Number(limitText);
    }
    const names = new Map<string, string>();
    for (const id of await knownModels().catch(() => [] as string[])) names.set(modelIdOf(id), id);
    if (model) names.set(modelIdOf(model), model);
    const found = directory.query({ ...(model ? { model: modelIdOf(model) } : {}), ...(near ? { near } : {}), limit });
    const s = directory.status();
    const body: WireNodeList = {
      object: "list",
      data: found.map((x) => toWireNode(x, names)),
      indexedBlock: Number(s.indexedBlock < 0n ? 0n : s.indexedBlock),
      finalizedBlock: Number(s.finalizedBlock),
    };
    return c.json(body);
  };
}
