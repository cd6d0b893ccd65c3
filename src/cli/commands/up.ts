/**
 * `cloister up`: start a private inference node. Loads config (flags > env > defaults),
 * picks the TEE, opens the store, loads the backend, makes fresh per-boot keys, serves,
 * and on SIGINT/SIGTERM (io.signal) drains in-flight streams before exiting.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { ReportInfo } from "../../attest/report/format.js";
import { loadNodeConfig, UP_USAGE, type NodeConfig } from "../../config/node-config.js";
import { isCloisterError } from "../../errors.js";
import { join } from "node:path";
import { Hub } from "../../agents/hub/hub.js";
import { openHubStore } from "../../agents/hub/store.js";
import { detectSandbox } from "../../agents/sandbox/detect.js";
import { SandboxPool } from "../../agents/sandbox/warm-pool.js";
import { DEFAULT_LIMITS } from "../../agents/manifest.js";
import { createGateway, freshE2EKeys } from "../../gateway/app.js";
import { createHttpFetch } from "../../gateway/http-fetch.js";
import { createSigningPool } from "../../gateway/signing-pool.js";
import { createMetrics } from "../../gateway/metrics.js";
import { startServer } from "../../gateway/server.js";
import { InferenceCode, type InferenceBackend } from "../../inference/backend.js";
import { createLogger } from "../../log/logger.js";
import { createSigner } from "../../seal/signing.js";
import { openNodeStore, type OpenedStore } from "../../store/postgres-select.js";
import { startNodeMarketDirectory } from "./up-market.js";
import { prepareNodeTokens, type NodeTokens } from "./up-tokens.js";
import { resolveGpuEvidence, type ResolvedGpuEvidence } from "../../tee/gpu-evidence-config.js";
import { selectTeeProvider } from "../../tee/select.js";
import { withCollateral } from "../../tee/collateral.js";
import { toHex, utf8 } from "../../util/bytes.js";
import { EXIT, type CliIO } from "../io.js";
import type { SealedBackend } from "./up-sealed.js";
import type { NodeMarket } from "../../market/node-market.js";

export const VERSION = "0.1.0";

async function fileSha256(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

async function loadBackend(config: NodeConfig, io: CliIO): Promise<{ backend: InferenceBackend; manifest: Record<string, unknown>; label: string }> {
  if (config.upstream) {
    const { createUpstreamBackend } = await import("../../inference/upstream/backend.js");
    // node:http keep-alive transport: ~half the per-request cost of the built-in fetch.
    const backend = createUpstreamBackend({ baseURL: config.upstream, fetch: createHttpFetch() });
    return { backend, manifest: { backend: "upstream", upstream: config.upstream }, label: `upstream ${config.upstream}` };
  }
  const { resolveModel, publicModelSource } = await import("../../inference/model-source.js");
  const { createLlamaBackend } = await import("../../inference/llama/backend.js");
  const model = await resolveModel({
    ...(config.modelFlag ? { flag: config.modelFlag } : {}),
    ...(config.modelEnv ? { env: config.modelEnv } : {}),
    dataDir: config.dataDir,
    ...(io.signal ? { signal: io.signal } : {}),
  });
  const backend = await createLlamaBackend({
    modelPath: model.path,
    ...(config.threads ? { threads: config.threads } : {}),
    ...(config.parallel ? { parallel: config.parallel } : {}),
  });
  const ids = (await backend.listModels()).map((m) => m.id);
  const hash = await fileSha256(model.path);
  return {
    backend,
    manifest: { backend: "llama", models: ids.map((id) => ({ id, source: publicModelSource(model.spec), sha256: hash })) },
    label: `${ids.join(", ")} (sha256 ${hash.slice(0, 12)}…)`,
  };
}

function processStopSignal(): AbortSignal {
  const ac = new AbortController();
  const onSignal = (): void => {
    // A second Ctrl-C during the drain exits at once.
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return ac.signal;
}

export async function upCommand(args: string[], io: CliIO): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.out(UP_USAGE);
    return EXIT.ok;
  }
  let config: NodeConfig;
  try {
    config = loadNodeConfig(args, io.env, io.cwd);
  } catch (err) {
    io.err(`cloister up: ${err instanceof Error ? err.message : String(err)}\n\n${UP_USAGE}`);
    return EXIT.usage;
  }
  const logger = createLogger({ level: config.logLevel, sink: (l) => io.err(l) });
  let tee: Awaited<ReturnType<typeof selectTeeProvider>>;
  // GPU evidence is resolved only once a hardware TEE is chosen (the simulator makes its own).
  let gpu: ResolvedGpuEvidence = { source: null, description: "none" };
  try {
    tee = await selectTeeProvider(config.tee, {
      resolveGpuEvidence: async () => {
        gpu = await resolveGpuEvidence(config.gpuEvidence, { selfTest: true });
        return gpu.source;
      },
    });
  } catch (err) {
    // The wrong or a missing TEE is a configuration problem: say which flag to change, exit 2.
    io.err(`cloister up: ${isCloisterError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)}`);
    return isCloisterError(err) && err.name === "ConfigError" ? EXIT.usage : EXIT.failed;
  }
  // Hardware: serve Intel/AMD/NVIDIA collateral beside every report (src/tee/collateral.ts;
  // PCS or $CLOISTER_PCCS_URL); the simulator serves its own simulated collateral.
  if (!tee.simulated) {
    const pccs = io.env["CLOISTER_PCCS_URL"];
    tee = withCollateral(tee, { cacheDir: join(config.dataDir, "collateral"), ...(pccs ? { pccsUrl: pccs } : {}), onError: (part, e) => logger.warn("collateral not fetched; clients will see it unchecked", { part, code: isCloisterError(e) ? e.code : "FETCH_FAILED" }) });
  }
  let store: OpenedStore;
  try {
    store = await openNodeStore({ url: config.store, dataDir: config.dataDir, nodeId: config.nodeId });
  } catch (err) {
    // e.g. --store names a database that is down: say so plainly (never the password).
    io.err(`cloister up: ${isCloisterError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
  if (store.interruptedAtOpen > 0) logger.warn("usage rows of requests cut off by the last shutdown marked interrupted", { count: store.interruptedAtOpen });

  // Fresh keys every boot: nothing to steal from disk, and the report binds them anew.
  // The same per-boot keys go to the signers (address in the report) and to the signing
  // pool's worker, which takes the ECDSA arithmetic off the event loop. Made before the
  // backend: a sealed model's key brokers see (and an owner may revoke) this address.
  const keys = { ecdsa: secp256k1.utils.randomSecretKey(), ed25519: ed25519.utils.randomSecretKey() };
  const signers = { ecdsa: createSigner("ecdsa", keys.ecdsa), ed25519: createSigner("ed25519", keys.ed25519) };

  let loaded: Awaited<ReturnType<typeof loadBackend>> & { sealed?: SealedBackend };
  try {
    if (config.kms) {
      const { loadSealedBackend } = await import("./up-sealed.js");
      const sealed = await loadSealedBackend(config, tee, signers.ecdsa, VERSION, logger);
      loaded = { backend: sealed.backend, manifest: sealed.manifest, label: sealed.label, sealed };
    } else loaded = await loadBackend(config, io);
  } catch (err) {
    await store.close();
    // A clear message, not a stack trace: e.g. no model and no network. No usable model is
    // fixed by passing an option (--model PATH / CLOISTER_MODEL), so it exits like a usage error.
    io.err(`cloister up: ${isCloisterError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)}`);
    return isCloisterError(err) && err.code === InferenceCode.MODEL_UNAVAILABLE ? EXIT.usage : EXIT.failed;
  }
  const { backend, manifest, label, sealed } = loaded;

  // The market (--register): receipts are signed by the same attested ECDSA key as responses.
  let nodeMarket: NodeMarket | null = null;
  if (config.market) {
    try {
      const { prepareNodeMarket } = await import("../../market/node-market.js");
      const { privateKeyToAccount } = await import("viem/accounts");
      nodeMarket = prepareNodeMarket({ flags: config.market, env: io.env, cwd: io.cwd, dataDir: config.dataDir, enclave: privateKeyToAccount(`0x${toHex(keys.ecdsa)}`), logger });
    } catch (err) {
      await store.close();
      await backend.close();
      io.err(`cloister up: ${isCloisterError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)}`);
      return isCloisterError(err) && err.name === "ConfigError" ? EXIT.usage : EXIT.failed;
    }
  }

  // Anonymous tokens sold through the escrow (--token-price; ./up-tokens.ts).
  let tokens: NodeTokens | null = null;
  if (nodeMarket && config.market?.tokenPrice !== undefined) {
    try {
      tokens = await prepareNodeTokens(nodeMarket);
    } catch (err) {
      await nodeMarket.close();
      await store.close();
      await backend.close();
      io.err(`cloister up: ${isCloisterError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)}`);
      return isCloisterError(err) && err.name === "ConfigError" ? EXIT.usage : EXIT.failed;
    }
  }

  const signingPool = createSigningPool(keys);
  // E2E is always on (the report advertises this key); --require-e2ee only refuses plaintext.
  const e2e = freshE2EKeys(config.requireE2ee);
  const appManifest = { app: "cloister", version: VERSION, ...manifest };
  // Measure the manifest into RTMR3 where the TEE supports app events (dstack-style).
  try {
    await tee.extendAppEvent?.("cloister-app-manifest", sha256(utf8.encode(JSON.stringify(appManifest))));
  } catch (err) {
    // dstack >= 0.6 has no app events; its compose hash (RTMR3) still pins the app. Say so, serve on.
    logger.warn("app manifest not recorded in RTMR3", { code: isCloisterError(err) ? err.code : "UNKNOWN" });
  }
  const info: ReportInfo = { app_name: "cloister", version: VERSION, app_manifest: appManifest, compose_hash: null };
  sealed?.setReportInfo(info);

  // The agent hub beside the main store; runs refuse untrusted code without a sandbox unless
  // CLOISTER_AGENTS_UNSANDBOXED=1 (development only, announced below).
  const agentsUnsandboxed = io.env["CLOISTER_AGENTS_UNSANDBOXED"] === "1";
  const agentHub = openHubStore(join(config.dataDir, "agents.sqlite"));
  // One sandbox kept started ahead of demand (each serves one run): a run skips Node's boot.
  const agentPool = !agentsUnsandboxed && detectSandbox().available ? new SandboxPool({ size: 1 }) : null;
  void agentPool?.warm(DEFAULT_LIMITS).catch(() => undefined);
  const shutdown = new AbortController();
  // The market's node directory (GET /v1/nodes), when a market is configured (./up-market.ts).
  const market = await startNodeMarketDirectory({ env: io.env, cwd: io.cwd, dataDir: config.dataDir, storeUrl: config.store, logger }).catch((err: unknown) => {
    logger.warn("market directory not started", { code: isCloisterError(err) ? err.code : "UNKNOWN" });
    return null;
  });
  const app = createGateway({
    agents: { hub: new Hub(agentHub), logger, ...(agentPool ? { pool: agentPool } : {}), ...(agentsUnsandboxed ? { allowUnsandboxed: true } : {}) },
    backend,
    tee,
    store,
    signers,
    signingPool,
    e2e,
    authRequired: config.auth,
    limits: { maxBodyBytes: config.maxBodyBytes, maxConcurrent: config.maxConcurrent, requestTimeoutMs: config.requestTimeoutMs },
    info,
    metrics: createMetrics(),
    logger,
    shutdownSignal: shutdown.signal,
    corsOrigins: config.corsOrigins,
    ...(nodeMarket ? { market: nodeMarket.payments } : {}),
    ...(market ? { nodes: market.indexer } : {}),
    ...(tokens ? { tokens } : {}),
  });
  const server = await startServer(app, { host: config.host, port: config.port, abortInFlight: shutdown });
  if (nodeMarket) {
    try {
      const r = await nodeMarket.start(server.url);
      io.out(`  market: registered enclave ${r.verdict.enclave} on chain ${nodeMarket.market.chainId} (expires ${new Date(Number(r.expiresAt) * 1000).toISOString()}); requests need a spend permit`);
      if (tokens) io.out(`  tokens: sold at POST /v1/tokens/buy for ${config.market?.tokenPrice ?? 0n} each (issuer key ${tokens.keyIdHex.slice(0, 16)}…; publish it: cloister log token-key --from ${server.url})`);
    } catch (err) {
      // Fail closed: a node that cannot register does not serve a market it is not listed in.
      io.err(`cloister up: market registration failed: ${isCloisterError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)}`);
      await server.close({ drainMs: 0 });
      await nodeMarket.close();
      await market?.close();
      await backend.close();
      await signingPool.close();
      await store.close();
      agentHub.close();
      return EXIT.failed;
    }
  }

  io.out(`cloister up: serving ${label} at ${server.url}/v1  tee=${tee.name}  data=${config.dataDir}${config.store ? `  store=${store.where}` : ""}  auth=${config.auth ? "api-keys" : "OFF"}${config.requireE2ee ? "  e2ee=required" : ""}`);
  io.out(`  signing address ${signers.ecdsa.address}  e2e key ${toHex(e2e.publicKey).slice(0, 16)}…`);
  if (!tee.simulated && gpu.source) io.out(`  GPU evidence: ${gpu.description}`);
  if (tee.simulated) io.out("SIMULATED TEE: no hardware protection — for development only");
  if (agentsUnsandboxed) io.out(`WARNING: CLOISTER_AGENTS_UNSANDBOXED=1: agents run WITHOUT a sandbox or egress firewall — development only`);
  else if (!detectSandbox().available) io.out(`agents: no sandbox here (${detectSandbox().reason ?? ""}); agent runs will be refused`);
  if (!config.auth) io.out(`WARNING: --no-auth: anyone who can reach ${server.url} can use this node`);
  logger.info("node started", { url: server.url, tee: tee.name, simulated: tee.simulated, auth: config.auth, backend: backend.kind });

  // The CLI entry passes no signal: then this command listens for SIGINT/SIGTERM itself.
  const stop = io.signal ?? processStopSignal();
  // A sealed model is served only while its key lease lives (revocation within one lease).
  const leaseLost = await new Promise<string | null>((resolve) => {
    if (stop.aborted) return resolve(null);
    stop.addEventListener("abort", () => resolve(null), { once: true });
    void sealed?.lease.expired.then((e) => resolve(`${e.code}: ${e.message}`));
  });
  if (leaseLost) io.err(`cloister up: stopping: ${leaseLost}`);
  logger.info("shutting down: draining in-flight requests", { drain_ms: config.drainMs });
  await server.close({ drainMs: config.drainMs });
  await nodeMarket?.close();
  if (sealed) await sealed.close();
  else await backend.close();
  await signingPool.close();
  await store.close();
  agentPool?.close();
  await market?.close();
  agentHub.close();
  logger.info("stopped");
  return leaseLost ? EXIT.failed : EXIT.ok;
}
