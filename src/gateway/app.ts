/**
 * The node's HTTP app: plain Web-standard handlers wrapped in middleware (hono). Order on
 * the completion routes, outermost first:
 *
 *   scope (id, abort signal, metrics, end-of-stream hooks)
 *   → E2E (every POST under /v1: opens sealed requests and their sealed credential, seals responses)
 *   → auth → concurrency limit → body limit → metering → deps.middleware.outer
 *   → signing (hashes the PLAINTEXT request and response bytes)
 *   → handler
 *
 * so the signature covers what the handler read and wrote, whether or not it travelled
 * sealed, and under E2E the API key is read from inside the envelope (no plaintext
 * Authorization crosses the proxy where TLS ends). Every error, from any layer, becomes an OpenAI-shaped body in errors.ts.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { Hono, type MiddlewareHandler } from "hono";
import type { TeeProvider } from "../attest/provider.js";
import type { ReportInfo } from "../attest/report/format.js";
import { GatewayError } from "../errors.js";
import type { InferenceBackend } from "../inference/backend.js";
import { silentLogger, type Logger } from "../log/logger.js";
import { createSigner } from "../seal/signing.js";
import type { Store } from "../store/store.js";
import { bodyBytes, type GatewayEnv } from "./context.js";
import { errorResponse, GatewayCode, toGatewayError } from "./errors.js";
import { attestationHandler } from "./handlers/attestation.js";
import { chatHandler, completionsHandler } from "./handlers/chat.js";
import { embeddingsHandler } from "./handlers/embeddings.js";
import { modelHandler, modelsHandler } from "./handlers/models.js";
import { nodesHandler, type NodeDirectory } from "./handlers/nodes.js";
import { responsesHandler } from "./handlers/responses.js";
import { cors } from "./middleware/cors.js";
import { signatureHandler } from "./handlers/signature.js";
import { createUsageProgress } from "./handlers/usage-progress.js";
import { e2eMiddleware, markInProcess } from "./e2e.js";
import type { IssuerKey } from "../transparency/tokens/issuer.js";
import type { TokenRedeemer } from "../transparency/tokens/redeemer.js";
import { mountTokenIssuer } from "./handlers/tokens.js";
import { ReceiptLog } from "../transparency/receipt-log.js";
import { nodeTreeHashes } from "../transparency/merkle-node.js";
import { mountReceipts } from "./handlers/receipts.js";
import { defaultConsoleDir, mountConsole } from "./handlers/console.js";
import { ohttpGatewayHandler, ohttpKeysHandler } from "../transparency/ohttp/gateway.js";
import { nodeKeyConfig, ohttpKeyId } from "../transparency/ohttp/key-config.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { auth } from "./middleware/auth.js";
import { bodyLimit, concurrencyLimit } from "./middleware/limits.js";
import { metering } from "./middleware/metering.js";
import { rateLimitByAddress, type RateLimitOptions } from "./middleware/rate-limit.js";
import { scope } from "./middleware/scope.js";
import { watchKnownModels } from "./known-models.js";
import { createModelCheck } from "./model-check.js";
import { completionBodyLimit } from "./body-bound.js";
import { agentRoutes, agentRunHandler, type AgentsDeps } from "../agents/hub/routes.js";
import { signing, type Signers } from "./middleware/signing.js";
import { nodeRouter } from "./route-cache.js";
import type { SigningPool } from "./signing-pool.js";
import type { NodePayments } from "../market/payments.js";

export interface GatewayLimits {
  /** Largest request body accepted (413 above). Default 4 MiB. */
  readonly maxBodyBytes?: number;
  /** Completions served at once (429 above). Default 64. */
  readonly maxConcurrent?: number;
  /** Whole-request time limit, streams included. Default 10 minutes. */
  readonly requestTimeoutMs?: number;
  /** Per-address limit on the unauthenticated attestation report (default 30 at once, 5/s). */
  readonly reportRateLimit?: RateLimitOptions;
}

export interface E2EKeys {
  /** Raw 32-byte X25519 keys made at boot; the public one is bound into report_data. */
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
  /** When true the E2E middleware refuses plaintext completion requests. */
  readonly required: boolean;
}

export interface GatewayDeps {
  readonly backend: InferenceBackend;
  readonly tee: TeeProvider;
  readonly store: Store;
  /** The node's per-boot signing keys; fresh ones when omitted. */
  readonly signers?: Signers;
  /** Signs on worker threads (made from the same keys as `signers`); the event loop signs when omitted. */
  readonly signingPool?: SigningPool;
  /**
   * The node's E2E key pair. The E2E middleware (e2e.ts) is always mounted outside
   * signing; when omitted, a fresh pair is made here (not required), so the report never
   * advertises a key the node cannot open.
   */
  readonly e2e?: E2EKeys;
  /** Forward completions byte for byte when the backend can (upstream servers). Default true. */
  readonly passthrough?: boolean;
  /** API-key auth on /v1 (except the attestation report). Default true. */
  readonly authRequired?: boolean;
  readonly limits?: GatewayLimits;
  /** `info` of the attestation report: app_manifest with model ids and file hashes. */
  readonly info?: ReportInfo;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Aborts every request in flight (forced shutdown after the drain period). */
  readonly shutdownSignal?: AbortSignal;
  /** Anonymous tokens (Privacy Pass, RFC 9578 type 2): this boot's issuer key; bought with an API key, spent instead of one. */
  readonly tokens?: { readonly key: IssuerKey; readonly redeemer: TokenRedeemer; readonly sale?: import("../transparency/tokens/escrow-sale.js").TokenSale };
  /** Origins allowed to call the API from a browser (CORS); none by default. */
  readonly corsOrigins?: readonly string[];
  /** The data-contribution pipeline's routes (src/data/pipeline/routes.ts), when this node runs one. */
  readonly data?: import("../data/pipeline/routes.js").DataRoutes;
  /** Extra middleware between metering and signing (after the E2E one when e2e is set). */
  readonly middleware?: { readonly outer?: readonly MiddlewareHandler[] };
  /** The static console (dist/console) at /console; default: the built one if present, null = off. */
  readonly consoleDir?: string | null;
  /** The agent hub and runner on /v1/agents (src/agents); absent = no agent routes. */
  readonly agents?: Omit<AgentsDeps, "signer" | "tee" | "e2ePublicKey">;
  /** The receipt log (default: a new one for this boot), when other signing points (the data pipeline) feed it too. */
  readonly receipts?: ReceiptLog;
  /** Market payments (src/market/payments.ts): permits in, enclave-signed receipts out; absent = unpaid node. */
  readonly market?: NodePayments;
  /** The market's registry indexer (src/ledger/indexer.ts), serving GET /v1/nodes; absent = 404 there. */
  readonly nodes?: NodeDirectory;
}

export const COMPLETION_ROUTES = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"] as const;

export function createGateway(deps: GatewayDeps): Hono<GatewayEnv> {
  const logger = deps.logger ?? silentLogger;
  const metrics = deps.metrics ?? createMetrics();
  const signers = deps.signers ?? { ecdsa: createSigner("ecdsa"), ed25519: createSigner("ed25519") };
  // Every signed exchange, sealed or not, goes into this boot's receipt log (src/transparency/receipt-log.ts).
  const receipts = deps.receipts ?? new ReceiptLog(`cloister-receipts/${signers.ecdsa.address}`, nodeTreeHashes);
  const e2e = deps.e2e ?? freshE2EKeys(false);
  const info: ReportInfo = deps.info ?? { app_name: "cloister", version: "0.0.0", app_manifest: {}, compose_hash: null };
  const limits = deps.limits ?? {};

  // The router remembers fixed paths (./route-cache.ts): the trie hono falls back to for these routes costs ~20 µs per request.
  const app = new Hono<GatewayEnv>({ router: nodeRouter() });
  app.onError((err, c) => {
    const e = toGatewayError(err);
    if (e.status >= 500) logger.error("request failed", { request_id: c.get("requestId"), code: e.code, status: e.status });
    return errorResponse(e);
  });
  app.notFound(() => errorResponse(new GatewayError(404, GatewayCode.NOT_FOUND, "no such route")));

  if (deps.corsOrigins?.length) app.use("*", cors(deps.corsOrigins));
  app.use("*", scope({ metrics, requestTimeoutMs: limits.requestTimeoutMs ?? 600_000, ...(deps.shutdownSignal ? { shutdownSignal: deps.shutdownSignal } : {}) }));
  app.get("/health", (c) => c.json({ ok: true }));
  mountConsole(app, deps.consoleDir === undefined ? defaultConsoleDir() : deps.consoleDir);
  // Every POST under /v1 — any route, today's and those added later (/v1/responses) — is
  // opened here, before auth (which reads the sealed credential): the client seals every
  // POST under its baseURL, so no route may depend on being listed somewhere to be opened.
  const maxBodyBytes = limits.maxBodyBytes ?? 4 * 1024 * 1024;
  // +16: the AEAD tag of the sealed body; the plaintext then meets bodyLimit in the chain.
  const e2eMw = e2eMiddleware({ ...e2e, maxBodyBytes: maxBodyBytes + 16 }) as MiddlewareHandler<GatewayEnv>;
  app.use("/v1/*", (c, next) => (c.req.method === "POST" ? e2eMw(c, next) : next()));
  // The model label is bounded to what the backend serves (metrics.ts); listed once now,
  // and again (at most once a minute) when a token count names a model not in the list.
  const refreshModels = watchKnownModels(deps.backend, metrics, logger);
  // /metrics is open only when auth is off (a local node); with keys on, it needs one:
  // counts by model and route tell an outsider how the node is used (docs/protocol.md).
  const authMw = auth({ store: deps.store, required: deps.authRequired ?? true, ...(deps.tokens ? { tokens: deps.tokens.redeemer } : {}) });
  // Every signing point: the receipt log hears each exchange once (with its upstream id as an alias).
  const signedAndLogged = (): MiddlewareHandler<GatewayEnv> =>
    signing({ signers, store: deps.store, onSigned: (id, s, alias, sealed) => receipts.append(id, s.text, { alias, sealed }), ...(deps.signingPool ? { pool: deps.signingPool } : {}) });
  // A purchase's answer is signed like a completion: under E2E the verifying fetch requires it in the sealed trailer.
  const signPurchase = signedAndLogged();
  if (deps.tokens) mountTokenIssuer(app, deps.tokens.key, auth({ store: deps.store, required: true }), deps.tokens.sale, signPurchase);
  app.use("/metrics", authMw, async (_c, next) => (refreshModels(), next()));
  app.get("/metrics", (c) => c.text(metrics.render() + processMetrics(), 200, { "content-type": "text/plain; version=0.0.4" }));
  // OHTTP (RFC 9458): the gateway key is the attested E2E key; inner requests run through
  // this same app, with no client address (docs/protocol.md "Oblivious HTTP").
  const ohttpKeys = [{ config: nodeKeyConfig(e2e.publicKey, ohttpKeyId(e2e.publicKey)), privateKey: e2e.privateKey }];
  app.get("/ohttp-keys", ohttpKeysHandler(ohttpKeys));
  // Unauthenticated: the encapsulated request is bounded before it is read (its inner request then meets the route's own limits).
  const ohttpMax = maxBodyBytes + 1024;
  const ohttp = ohttpGatewayHandler({ keys: ohttpKeys, dispatch: async (r) => app.fetch(r), maxRequestBytes: ohttpMax });
  app.use("/ohttp", bodyLimit(ohttpMax));
  app.post("/ohttp", async (c) => ohttp(c.req.raw, await bodyBytes(c)));
  mountReceipts(app, receipts, signers);
  // Unauthenticated, and each answer costs a quote and a signature: limited per address.
  app.use("/v1/attestation/report", rateLimitByAddress(limits.reportRateLimit));
  app.get("/v1/attestation/report", attestationHandler({ tee: deps.tee, signers, e2ePublicKey: e2e.publicKey, info }));

  // The model list is public: the attestation report already names every model
  // (app_manifest), and an E2E client sends no credential in the clear to read it.
  app.use("/v1/signature/*", authMw);
  app.get("/v1/models", modelsHandler(deps.backend));
  app.get("/v1/models/:id{.+}", modelHandler(deps.backend));
  app.get("/v1/signature/:id", signatureHandler(deps.store));
  // The market's node directory: public like the model list, a hint clients never trust.
  app.get("/v1/nodes", nodesHandler(deps.nodes, async () => (await deps.backend.listModels()).map((m) => m.id)));

  // Signatures of sealed exchanges reach the sealed trailer in memory (sealed-exchange.ts).
  const outer = (deps.middleware?.outer ?? []) as MiddlewareHandler<GatewayEnv>[];

  const limit = concurrencyLimit(limits.maxConcurrent ?? 64);
  // Running totals reach the in_flight row at least once a second: a crash loses at most that.
  const baseProgress = createUsageProgress({
    persist: (id, u) =>
      void deps.store.progressUsage(id, u).catch((err: unknown) => logger.warn("usage progress write failed", { request_id: id, code: err instanceof Error ? err.name : "unknown" })),
  });
  const progress = deps.market ? deps.market.tapProgress(baseProgress) : baseProgress;
  if (deps.market) {
    app.use("/v1/market/receipts/*", authMw);
    app.get("/v1/market/receipts/:id", deps.market.receiptRoute);
  }
  const chain: MiddlewareHandler<GatewayEnv>[] = [
    authMw,
    limit,
    bodyLimit(bodyLimitFor(maxBodyBytes, deps.backend.maxPromptBytes)),
    // Streams cut off before `done` are metered by the usage the backend reported so far.
    metering({ store: deps.store, metrics, logger, usageSoFar: (id) => progress.take(id), checkModel: createModelCheck(deps.backend) }),
    ...(deps.market ? [deps.market.middleware] : []),
    ...outer,
    signedAndLogged(),
  ];
  // POST only: the chain reads bodies and opens usage rows, which other methods must not reach.
  const postOnly: MiddlewareHandler<GatewayEnv> = async (c, next) => {
    if (c.req.method !== "POST") return errorResponse(new GatewayError(405, GatewayCode.METHOD_NOT_ALLOWED, `${c.req.method} is not allowed here; use POST`));
    await next();
  };
  for (const route of COMPLETION_ROUTES) app.use(route, postOnly, ...chain);
  app.post("/v1/chat/completions", chatHandler(deps.backend, deps.passthrough ?? true, progress));
  app.post("/v1/completions", completionsHandler(deps.backend, deps.passthrough ?? true, progress));
  app.post("/v1/embeddings", embeddingsHandler(deps.backend));
  app.post("/v1/responses", responsesHandler(deps.backend, progress));
  if (deps.data) {
    // Same sealing and signing as a completion (no metering: contributions are not tokens).
    const dataChain = [authMw, limit, bodyLimit(limits.maxBodyBytes ?? 16 * 1024 * 1024), ...outer, signedAndLogged()];
    app.use("/v1/data/contributions", postOnly, ...dataChain);
    app.post("/v1/data/contributions", deps.data.contribute);
    app.get("/v1/data/pipeline", deps.data.pipeline);
    app.use("/v1/data/datasets/*", authMw);
    app.get("/v1/data/datasets/:name/manifest", deps.data.manifest);
  }
  if (deps.agents) {
    // Runs go through the completion chain (E2E, signing); the agent's inference re-enters this app.
    const agents: AgentsDeps = { ...deps.agents, signer: signers.ed25519, tee: deps.tee.name, e2ePublicKey: e2e.publicKey, onSigned: receipts.record };
    app.use("/v1/agents/runs", postOnly, ...chain);
    app.post("/v1/agents/runs", agentRunHandler(agents, async (req) => app.fetch(markInProcess(req))));
    app.use("/v1/agents", authMw);
    app.use("/v1/agents/*", (c, next) => (c.req.path === "/v1/agents/runs" ? next() : authMw(c, next)));
    // Publish and yank answer signed, so the verifying client (which seals every POST) can use them on an E2E-only node.
    // Bounded before the signing layer hashes them (they are read whole): publishing is an authenticated upload, but not an unbounded one.
    app.on("POST", ["/v1/agents", "/v1/agents/:name/versions/:version/yank"], bodyLimit(maxBodyBytes), signedAndLogged());
    app.route("/v1/agents", agentRoutes(agents));
  }
  return app;
}

/** Chat and text completions are bounded by the model's context too; embeddings by the node's limit only. */
function bodyLimitFor(maxBodyBytes: number, maxPromptBytes: number | undefined): (path: string) => number {
  const completions = completionBodyLimit(maxBodyBytes, maxPromptBytes);
  return (path) => (path === "/v1/embeddings" ? maxBodyBytes : completions);
}

/** A per-boot X25519 pair for E2E (docs/protocol.md "End-to-end encryption"); never written to disk. */
export function freshE2EKeys(required: boolean): E2EKeys {
  const privateKey = x25519.utils.randomSecretKey();
  return { privateKey, publicKey: x25519.getPublicKey(privateKey), required };
}

/** Process memory in the names Prometheus' Node client uses, for flat-memory checks under load. */
function processMetrics(): string {
  const m = process.memoryUsage();
  return [
    "# TYPE process_resident_memory_bytes gauge",
    `process_resident_memory_bytes ${m.rss}`,
    "# TYPE nodejs_heap_size_used_bytes gauge",
    `nodejs_heap_size_used_bytes ${m.heapUsed}`,
    "",
  ].join("\n");
}
