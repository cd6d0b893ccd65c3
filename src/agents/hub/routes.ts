/**
 * `/v1/agents...` on the node (docs/protocol.md "Agents"). Reads and publishing are
 * plain JSON routes behind the API-key middleware; `POST /v1/agents/runs` is mounted by
 * the gateway in the completion chain, so a run's request and answer travel E2E-sealed
 * and signed like a chat completion, and carry the enclave-signed receipt besides.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { GatewayError } from "../../errors.js";
import type { GatewayEnv } from "../../gateway/context.js";
import { bodyBytes } from "../../gateway/context.js";
import type { Logger } from "../../log/logger.js";
import type { Signer } from "../../seal/signing.js";
import { AgentError } from "../errors.js";
import { parseRequirements } from "../guarantees.js";
import { runAgent } from "../runner.js";
import type { AddressPolicy } from "../egress/address-policy.js";
import type { Resolver } from "../egress/proxy.js";
import type { SandboxPool } from "../sandbox/warm-pool.js";
import type { Hub } from "./hub.js";
import type { OnSigned } from "../../transparency/signed-hook.js";

export interface AgentsDeps {
  readonly hub: Hub;
  /** The node's attested ed25519 signer: signs receipts. */
  readonly signer: Signer;
  readonly tee: string;
  /** This boot's attested E2E key: the receipt's attestation digest names it. */
  readonly e2ePublicKey: Uint8Array;
  /** The node's receipt log hears of every run receipt (src/transparency/signed-hook.ts). */
  readonly onSigned?: OnSigned;
  /** Development only (`cloister up --agents-unsandboxed`). */
  readonly allowUnsandboxed?: boolean;
  readonly addressPolicy?: AddressPolicy;
  readonly resolve?: Resolver;
  readonly logger?: Logger;
  /** Pre-started sandboxes, each used for one run (`cloister up` keeps one warm). */
  readonly pool?: SandboxPool;
}

const runBody = z
  .object({
    agent: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}(@[0-9A-Za-z.-]{1,60})?$/),
    input: z.string().max(16 * 1024 * 1024),
    requirements: z.unknown().optional(),
    accept_full: z.boolean().optional(),
  })
  .strict();

export function toHttp(err: unknown): unknown {
  return err instanceof AgentError ? new GatewayError(err.status, err.code.toLowerCase(), err.message, { cause: err }) : err;
}

async function guard<T>(f: () => Promise<T> | T): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw toHttp(e);
  }
}

export function agentRoutes(deps: AgentsDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get("/", (c) => guard(() => c.json({ object: "list", data: deps.hub.list(c.req.query("q") ?? "", Number(c.req.query("limit") ?? 50)) })));
  app.post("/", (c) => guard(async () => c.json(deps.hub.publish(await readJson(c)), 201)));
  app.get("/:name", (c) => guard(() => c.json(deps.hub.show(c.req.param("name"), c.req.query("version")))));
  app.post("/:name/versions/:version/yank", (c) =>
    guard(async () => {
      const b = z.object({ signature: z.string().regex(/^[0-9a-f]{128}$/) }).parse(await readJson(c));
      deps.hub.yank(c.req.param("name"), c.req.param("version"), b.signature);
      return c.json({ yanked: true });
    }),
  );
  app.get("/:name/telemetry", (c) => guard(() => c.json({ object: "list", data: deps.hub.telemetry(c.req.param("name"), Number(c.req.query("time") ?? 0), c.req.header("x-cloister-developer-signature") ?? "") })));
  return app;
}

/** POST /v1/agents/runs — in the completion chain (auth, limits, metering, E2E, signing). */
export function agentRunHandler(deps: AgentsDeps, inferenceFetch: (req: Request) => Promise<Response>) {
  return (c: Context<GatewayEnv>) =>
    guard(async () => {
      const body = runBody.parse(JSON.parse(new TextDecoder().decode(await bodyBytes(c))) as unknown);
      const resolved = deps.hub.resolve(body.agent);
      const requirements = body.requirements === undefined ? null : parseRequirements(body.requirements);
      const r = await runAgent({
        signed: resolved.signed,
        bundleSha256: resolved.bundleSha256,
        scannerReportSha256: resolved.reportSha256,
        input: new TextEncoder().encode(body.input),
        requirements,
        acceptFull: body.accept_full === true,
        signer: deps.signer,
        ...(deps.onSigned ? { onSigned: deps.onSigned } : {}),
        attestation: { tee: deps.tee, e2ePublicKey: deps.e2ePublicKey },
        // The caller's own credential pays for the agent's inference; the agent never sees it.
        inference: { fetch: inferenceFetch, baseUrl: "http://cloister.internal", authorization: c.req.header("authorization") ?? null },
        ...(deps.addressPolicy ? { addressPolicy: deps.addressPolicy } : {}),
        ...(deps.resolve ? { resolve: deps.resolve } : {}),
        ...(deps.pool ? { pool: deps.pool } : {}),
        ...(deps.allowUnsandboxed ? { allowUnsandboxed: true, onWarning: (m: string) => deps.logger?.warn(m) } : {}),
      });
      deps.hub.recordTelemetry(resolved.signed.bundle.manifest.name, resolved.signed.bundle.manifest.version, r.telemetry);
      deps.logger?.info("agent run", { agent: resolved.signed.bundle.manifest.name, outcome: r.process.outcome, duration_ms: Math.round(r.process.durationMs), egress_refused: r.traffic.refusals() });
      return c.json({ object: "agent.run", output: r.output.toString("utf8"), outcome: r.process.outcome, scanner_verdict: resolved.report.verdict, receipt: r.receipt });
    });
}

async function readJson(c: Context<GatewayEnv>): Promise<unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(await bodyBytes(c))) as unknown;
  } catch {
    throw new GatewayError(400, "invalid_json", "the request body is not JSON");
  }
}
