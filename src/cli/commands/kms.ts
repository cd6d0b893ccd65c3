/**
 * `cloister kms up`: run a key broker (docs/protocol.md, "Key broker"). It attests like a
 * node (GET /v1/attestation/report binds its signing and HPKE keys), keeps owners' shares
 * sealed under its state key, and releases them only to nodes whose fresh evidence
 * satisfies the owner's policy. Stops on SIGINT/SIGTERM (or io.signal).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { resolveDataDir } from "../../config/node-config.js";
import { ConfigError, isCloisterError } from "../../errors.js";
import { fetchCollateral as fetchIntelCollateral } from "../../attest/intel/index.js";
import { createBrokerApp } from "../../kms/broker/app.js";
import { openBroker } from "../../kms/broker/broker.js";
import { serveBroker } from "../../kms/broker/serve.js";
import { dstackStateKey, fileStateKey, type StateKey } from "../../kms/broker/state-key.js";
import { DSTACK_SOCKET_PATH } from "../../tee/dstack.js";
import { resolveAccount, resolveMarket } from "../../ledger/chain-config.js";
import { createModelChain, type ModelChain } from "../../kms/chain/model-registry.js";
import { selectTeeProvider, TEE_KINDS, type TeeKind } from "../../tee/select.js";
import { EXIT, untilStopped, type CliIO } from "../io.js";

const USAGE = `usage: cloister kms up [options]

  --host H               listen address (default 127.0.0.1)
  --port P               listen port (default 8090; 0 picks a free one)
  --data-dir DIR         sealed state and release log (env CLOISTER_DATA_DIR; default ~/.cloister), under kms/
  --tee KIND             auto|tdx|sev-snp|dstack|simulated (default auto)
  --state-key SRC        file (default; SIMULATED: a key file in the data dir) | dstack (GetKey from the dstack guest agent)
  --nonce-ttl-ms N       how long a release challenge is good for (default 60000)
  --pccs URL             fetch Intel collateral (PCCS or PCS base URL) so node evidence gets a TCB status;
                         without it the TCB status is "not checked" (a policy with requireTcbStatus refuses)
  --chain                read owners' policies and revocations from the market's ModelRegistry and log every
                         release there (also on with --market/--chain-rpc or env CLOISTER_MARKET/CLOISTER_CHAIN_RPC)
  --market FILE          the market's addresses (env CLOISTER_MARKET; default DATA_DIR/market.json)
  --chain-rpc URL        EVM JSON-RPC (env CLOISTER_CHAIN_RPC; default the market file's)
  --chain-key-file FILE  the account that pays for release events (or env CLOISTER_CHAIN_KEY); required on a chain`;

export async function kmsCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "up") {
    io.out(USAGE);
    return sub === "--help" || sub === "-h" ? EXIT.ok : EXIT.usage;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: rest, strict: true, options: { host: { type: "string" }, port: { type: "string" }, "data-dir": { type: "string" }, tee: { type: "string" }, "state-key": { type: "string" }, "nonce-ttl-ms": { type: "string" }, pccs: { type: "string" }, help: { type: "boolean" }, chain: { type: "boolean" }, market: { type: "string" }, "chain-rpc": { type: "string" }, "chain-key-file": { type: "string" } } }));
  } catch (cause) {
    io.err(`${cause instanceof Error ? cause.message : String(cause)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (values["help"]) {
    io.out(USAGE);
    return EXIT.ok;
  }
  const str = (k: string): string | undefined => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const tee = (str("tee") ?? "auto") as TeeKind;
  const port = Number(str("port") ?? "8090");
  const ttl = Number(str("nonce-ttl-ms") ?? "60000");
  const stateKeyKind = str("state-key") ?? "file";
  if (!TEE_KINDS.includes(tee) || !Number.isInteger(port) || port < 0 || !Number.isInteger(ttl) || ttl < 1000 || (stateKeyKind !== "file" && stateKeyKind !== "dstack")) {
    io.err(USAGE);
    return EXIT.usage;
  }
  const baseDir = resolveDataDir(str("data-dir"), io.env, io.cwd);
  const dataDir = join(baseDir, "kms");
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const provider = await selectTeeProvider(tee);
    const stateKey: StateKey = stateKeyKind === "dstack" ? await dstackStateKey(DSTACK_SOCKET_PATH) : fileStateKey(join(dataDir, "state.key"));
    const pccsUrl = str("pccs");
    if (pccsUrl !== undefined && !/^https?:\/\//i.test(pccsUrl)) {
      io.err(`--pccs ${pccsUrl} is not an http(s) URL\n\n${USAGE}`);
      return EXIT.usage;
    }
    const verify = pccsUrl ? { fetchCollateral: (quote: Uint8Array) => fetchIntelCollateral(quote, { pccsUrl, cacheDir: join(dataDir, "collateral") }) } : undefined;
    const chain = brokerChainFrom(str, values["chain"] === true, io, baseDir);
    const broker = openBroker({ dataDir, stateKey, tee: provider, nonceTtlMs: ttl, ...(verify ? { verify } : {}), ...(chain ? { chain } : {}) });
    const server = await serveBroker(createBrokerApp(broker), str("host") ?? "127.0.0.1", port);
    io.out(`cloister kms: serving at ${server.url}  tee=${provider.name}  broker=${broker.signer.address}  data=${dataDir}`);
    io.out(`  state key: ${stateKey.description}`);
    if (chain) io.out(`  chain: ${chain.chainId}  ModelRegistry ${chain.address} (policies, revocations and release events on chain)`);
    if (provider.simulated) io.out("SIMULATED TEE: this broker's attestation proves nothing — for development only");
    await untilStopped(io);
    await server.close();
    return EXIT.ok;
  } catch (e) {
    io.err(`cloister kms up: ${isCloisterError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e)}`);
    return isCloisterError(e) && e.name === "ConfigError" ? EXIT.usage : EXIT.failed;
  }
}

/** The market's ModelRegistry, when any chain option is given; a broker on a chain must be able to pay for its release events. */
function brokerChainFrom(str: (k: string) => string | undefined, flag: boolean, io: CliIO, baseDir: string): ModelChain | null {
  const wanted = flag || str("market") !== undefined || str("chain-rpc") !== undefined || io.env["CLOISTER_MARKET"] !== undefined || io.env["CLOISTER_CHAIN_RPC"] !== undefined;
  if (!wanted) return null;
  const flags = { market: str("market"), "chain-rpc": str("chain-rpc"), "chain-key-file": str("chain-key-file") };
  const market = resolveMarket(flags, io.env, io.cwd, baseDir);
  const account = resolveAccount(flags, io.env, io.cwd);
  if (!account) throw new ConfigError("CHAIN_KEY_MISSING", "a broker on a chain needs --chain-key-file FILE or CLOISTER_CHAIN_KEY (it pays for the release events)");
  return createModelChain({ market, account });
}
