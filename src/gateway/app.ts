/**
 * The node's HTTP app: plain Web-standard handlers wrapped in middleware (hono). Order on
 * the completion routes, outermost first:
 *
 *   scope (id, abort signal, metrics, end-of-stream hooks)
 *   → auth → concurrency limit → body limit → metering
 *   → E2E (always: opens sealed requests, seals responses) → deps.middleware.outer
 *   → signing (hashes the PLAINTEXT request and response bytes)
 *   → handler
 *
 * so the signature covers what the handler read and wrote, whether or not it travelled
 * sealed. Every error, from any layer, becomes an OpenAI-shaped body in errors.ts.
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
import type { GatewayEnv } from "./context.js";
import { errorResponse, GatewayCode, toGatewayError } from "./errors.js";
import { attestationHandler } from "./handlers/attestation.js";
import { chatHandler, completionsHandler } from "./handlers/chat.js";
import { embeddingsHandler } from "./handlers/embeddings.js";
import { modelsHandler } from "./handlers/models.js";
import { signatureHandler } from "./handlers/signature.js";
import { createUsageProgress } from "./handlers/usage-progress.js";
import { e2eMiddleware } from "./e2e.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { auth } from "./middleware/auth.js";
import { bodyLimit, concurrencyLimit } from "./middleware/limits.js";
import { metering } from "./middleware/metering.js";
import { scope } from "./middleware/scope.js";
import { watchKnownModels } from "./known-models.js";
import { agentRoutes, agentRunHandler, type AgentsDeps } from "../agents/hub/routes.js";
import { signing, type Signers } from "./middleware/signing.js";
import type { SigningPool } from "./signing-pool.js";

export interface GatewayLimits {
  /** Largest request body accepted (413 above). Default 4 MiB. */
  readonly maxBodyBytes?: number;
  /** Completions served at once (429 above). Default 64. */
  readonly maxConcurrent?: number;
  /** Whole-request time limit, streams included. Default 10 minutes. */
  readonly requestTimeoutMs?: number;
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
  /** Extra middleware between metering and signing (after the E2E one when e2e is set). */
  readonly middleware?: { readonly outer?: readonly MiddlewareHandler[] };
  /** The agent hub and runner on /v1/agents (src/agents); absent = no agent routes. */
  readonly agents?: Omit<AgentsDeps, "signer" | "tee">;
}

export const COMPLETION_ROUTES = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"] as const;

export function createGateway(deps: GatewayDeps): Hono<GatewayEnv> {
  const logger = deps.logger ?? silentLogger;
  const metrics = deps.metrics ?? createMetrics();
  const signers = deps.signers ?? { ecdsa: createSigner("ecdsa"), ed25519: createSigner("ed25519") };
  const e2e = deps.e2e ?? freshE2EKeys(false);
  const info: ReportInfo = deps.info ?? { app_name: "cloister", version: "0.0.0", app_manifest: {}, compose_hash: null };
  const limits = deps.limits ?? {};

  const app = new Hono<GatewayEnv>();
  app.onError((err, c) => {
    const e = toGatewayError(err);
    if (e.status >= 500) logger.error("request failed", { request_id: c.get("requestId"), code: e.code, status: e.status });
    return errorResponse(e);
  });
  app.notFound(() => errorResponse(new GatewayError(404, GatewayCode.NOT_FOUND, "no such route")));

  app.use("*", scope({ metrics, requestTimeoutMs: limits.requestTimeoutMs ?? 600_000, ...(deps.shutdownSignal ? { shutdownSignal: deps.shutdownSignal } : {}) }));
  app.get("/health", (c) => c.json({ ok: true }));
  // The model label is bounded to what the backend serves (metrics.ts); listed once now,
  // and again (at most once a minute) when a token count names a model not in the list.
  const refreshModels = watchKnownModels(deps.backend, metrics, logger);
  // /metrics is open only when auth is off (a local node); with keys on, it needs one:
  // counts by model and route tell an outsider how the node is used (docs/protocol.md).
  const authMw = auth({ store: deps.store, required: deps.authRequired ?? true });
  app.use("/metrics", authMw, async (_c, next) => (refreshModels(), next()));
  app.get("/metrics", (c) => c.text(metrics.render() + processMetrics(), 200, { "content-type": "text/plain; version=0.0.4" }));
  app.get("/v1/attestation/report", attestationHandler({ tee: deps.tee, signers, e2ePublicKey: e2e.publicKey, info }));

  app.use("/v1/models", authMw);
  app.use("/v1/signature/*", authMw);
  app.get("/v1/models", modelsHandler(deps.backend));
  app.get("/v1/signature/:id", signatureHandler(deps.store));

  const outer: MiddlewareHandler<GatewayEnv>[] = [
    e2eMiddleware({
      ...e2e,
      // Streams are signed after their last byte; the sealed trailer reads it back here.
      signatureFor: async (id, algo) => {
        const r = await deps.store.getSignature(id, algo);
        return r && { text: r.text, signature: r.signature, signing_address: r.address, signing_algo: r.algo };
      },
    }) as MiddlewareHandler<GatewayEnv>,
    ...((deps.middleware?.outer ?? []) as MiddlewareHandler<GatewayEnv>[]),
  ];

  const limit = concurrencyLimit(limits.maxConcurrent ?? 64);
  const progress = createUsageProgress();
  const chain: MiddlewareHandler<GatewayEnv>[] = [
    authMw,
    limit,
    bodyLimit(limits.maxBodyBytes ?? 4 * 1024 * 1024),
    // Streams cut off before `done` are metered by the usage the backend reported so far.
    metering({ store: deps.store, metrics, logger, usageSoFar: (id) => progress.take(id) }),
    ...outer,
    signing({ signers, store: deps.store, ...(deps.signingPool ? { pool: deps.signingPool } : {}) }),
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
  if (deps.agents) {
    // Runs go through the completion chain (E2E, signing); the agent's inference re-enters this app.
    const agents: AgentsDeps = { ...deps.agents, signer: signers.ed25519, tee: deps.tee.name };
    app.use("/v1/agents/runs", postOnly, ...chain);
    app.post("/v1/agents/runs", agentRunHandler(agents, async (req) => app.fetch(req)));
    app.use("/v1/agents", authMw);
    app.use("/v1/agents/*", (c, next) => (c.req.path === "/v1/agents/runs" ? next() : authMw(c, next)));
    app.route("/v1/agents", agentRoutes(agents));
  }
  return app;
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
