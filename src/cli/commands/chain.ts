/**
 * `cloister chain start [--port P] [--data-dir D] [--json]`: the embedded local market
 * (anvil from npm, contracts deployed), printed as RPC URL and addresses, running until
 * SIGINT/SIGTERM. With --data-dir the chain's state and market.json persist across restarts.
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { isCloisterError } from "../../errors.js";
import { startLocalChain } from "../../ledger/local-chain.js";
import { marketFileJson } from "../../ledger/market-file.js";
import { EXIT, untilStopped, type CliIO } from "../io.js";

const USAGE = `usage: cloister chain start [options]

  --port P        JSON-RPC port on 127.0.0.1 (default: a free one)
  --data-dir D    keep the chain's state and market.json in D (default: nothing kept)
  --json          print the market file (chain id, RPC URL, addresses) as JSON

A local development chain: its registry admits SIMULATED nodes and its verifier quorum is
one key in the data dir. Production markets are deployed on a real chain (--chain-rpc).`;

export async function chainCommand(args: string[], io: CliIO): Promise<number> {
  let values: { port?: string | undefined; "data-dir"?: string | undefined; json?: boolean | undefined; help?: boolean | undefined };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { port: { type: "string" }, "data-dir": { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (cause) {
    io.err(`${cause instanceof Error ? cause.message : String(cause)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (values.help) {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (positionals[0] !== "start" || positionals.length !== 1) {
    io.err(USAGE);
    return EXIT.usage;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.err(`--port must be 0-65535\n\n${USAGE}`);
    return EXIT.usage;
  }
  let local;
  try {
    local = await startLocalChain({ port, ...(values["data-dir"] ? { dataDir: resolve(io.cwd, values["data-dir"]) } : {}) });
  } catch (err) {
    io.err(`cloister chain: ${isCloisterError(err) ? `${err.code}: ${err.message}` : String(err)}`);
    return EXIT.failed;
  }
  const m = local.market;
  if (values.json) {
    io.out(marketFileJson(m).trimEnd());
  } else {
    io.out(`cloister chain: local market ${local.reused ? "(reused) " : ""}at ${m.rpcUrl}  chain id ${m.chainId}`);
    for (const [name, addr] of Object.entries(m.addresses)) if (addr) io.out(`  ${name.padEnd(16)} ${addr}`);
    io.out("LOCAL CHAIN: admits simulated nodes; its verifier quorum is one local key — development only");
  }
  await untilStopped(io);
  await local.stop();
  return EXIT.ok;
}

