/**
 * `cloister nodes [--model M] [--near lat,lon] [--limit N] [--json]`: the market's
 * registered, active, unexpired nodes, served from the registry indexer (its store in the
 * data dir, or --store postgres://…), which this command first brings up to date (from its
 * last stored final block, so only new blocks are read). --json prints exactly what
 * GET /v1/nodes answers (docs/protocol.md "Node discovery"). A hint: clients attest every
 * node themselves before use.
 */
import { parseArgs } from "node:util";
import { resolveDataDir, resolveStoreUrl } from "../../config/node-config.js";
import { isCloisterError } from "../../errors.js";
import { CHAIN_OPTIONS, CHAIN_USAGE, resolveMarket } from "../../ledger/chain-config.js";
import { parseLatLon } from "../../ledger/discovery.js";
import { openMarketDirectory } from "../../ledger/market-directory.js";
import { modelIdOf, NODES_DEFAULT_LIMIT, NODES_MAX_LIMIT, toWireNode, type WireNodeList } from "../../ledger/nodes-wire.js";
import { EXIT, type CliIO } from "../io.js";

export const NODES_USAGE = `usage: cloister nodes [--model M] [--near lat,lon] [--limit N] [--json]
  Lists registered, active, unexpired nodes from the registry indexer (brought up to date
  first), nearest first with --near; --json prints what GET /v1/nodes answers.
  The list is a hint: clients attest every node themselves before use.
  --store URL            keep the index in PostgreSQL (env CLOISTER_STORE; default SQLite in the data dir)
  env CLOISTER_FINALITY_DEPTH  blocks before one is final (default 12; 0 on the local chain)
${CHAIN_USAGE}`;

const OPTIONS = {
  ...CHAIN_OPTIONS,
  model: { type: "string" },
  near: { type: "string" },
  limit: { type: "string" },
  store: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export async function nodesCommand(args: string[], io: CliIO): Promise<number> {
  let v: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>["values"];
  try {
    v = parseArgs({ args, options: OPTIONS }).values;
  } catch (cause) {
    io.err(`${cause instanceof Error ? cause.message : String(cause)}\n\n${NODES_USAGE}`);
    return EXIT.usage;
  }
  if (v.help) {
    io.out(NODES_USAGE);
    return EXIT.ok;
  }
  const near = v.near !== undefined ? parseLatLon(v.near) : undefined;
  if (near === null) return usage(io, "--near must be lat,lon in degrees");
  const limit = v.limit === undefined ? NODES_DEFAULT_LIMIT : Number(v.limit);
  if (!/^\d+$/.test(v.limit ?? "1") || limit < 1 || limit > NODES_MAX_LIMIT) return usage(io, `--limit must be an integer from 1 to ${NODES_MAX_LIMIT}`);
  let dir: Awaited<ReturnType<typeof openMarketDirectory>> | null = null;
  try {
    const dataDir = resolveDataDir(v["data-dir"], io.env, io.cwd);
    const market = resolveMarket(v, io.env, io.cwd, dataDir);
    dir = await openMarketDirectory({ market, dataDir, storeUrl: resolveStoreUrl(v.store, io.env), env: io.env });
    const status = await dir.indexer.sync();
    const found = dir.indexer.query({ ...(v.model ? { model: modelIdOf(v.model) } : {}), ...(near ? { near } : {}), limit });
    const names = new Map(v.model ? [[modelIdOf(v.model), v.model]] : []);
    const list: WireNodeList = { object: "list", data: found.map((c) => toWireNode(c, names)), indexedBlock: Number(status.indexedBlock), finalizedBlock: Number(status.finalizedBlock) };
    if (v.json) {
      io.out(JSON.stringify(list, null, 2));
    } else {
      if (list.data.length === 0) io.out("no registered nodes match");
      for (const [i, n] of list.data.entries()) {
        const d = n.distanceKm === null ? "" : `  ${n.distanceKm.toFixed(0)} km`;
        io.out(`${n.enclave}  ${n.endpoint}  ${n.region}${d}${found[i]!.node.simulated ? "  SIMULATED" : ""}`);
      }
      io.out(`(indexed to block ${list.indexedBlock}, final to ${list.finalizedBlock})`);
    }
    return EXIT.ok;
  } catch (err) {
    io.err(`cloister nodes: ${isCloisterError(err) ? `${err.code}: ${err.message}` : String(err)}`);
    return isCloisterError(err) && err.name === "ConfigError" ? EXIT.usage : EXIT.failed;
  } finally {
    await dir?.close();
  }
}

function usage(io: CliIO, msg: string): number {
  io.err(`${msg}\n\n${NODES_USAGE}`);
  return EXIT.usage;
}
