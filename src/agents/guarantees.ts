/**
 * Guarantees a caller demands before a run (`--require '{"egress":[...],"observability":"none"}'`).
 * The node checks them against the manifest it is about to attest in the receipt and
 * refuses the run when they do not hold: every host:port the manifest may reach must be
 * among the required ones (wildcards only covered by an equal wildcard), and the declared
 * observability level must not reveal more than the required one.
 */
import { z } from "zod";
import { AgentError, AgentCode } from "./errors.js";
import { egressRules, OBSERVABILITY_LEVELS, parseEgressEntry, type AgentManifest, type ObservabilityLevel } from "./manifest.js";

export interface Requirements {
  /** Hosts the agent may reach at most; omitted = no constraint. */
  readonly egress?: readonly string[];
  /** The most revealing level accepted; omitted = no constraint. */
  readonly observability?: ObservabilityLevel;
  /** Only this bundle, when set. */
  readonly bundle_sha256?: string;
}

export const requirementsSchema = z
  .object({
    egress: z.array(z.string().max(260)).max(64).optional(),
    observability: z.enum(OBSERVABILITY_LEVELS).optional(),
    bundle_sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  })
  .strict();

export function parseRequirements(value: unknown): Requirements {
  const r = requirementsSchema.safeParse(value);
  if (!r.success) throw new AgentError(AgentCode.INPUT_INVALID, `requirements: ${r.error.issues[0]?.message ?? "invalid"}`);
  for (const e of r.data.egress ?? []) parseEgressEntry(e);
  return r.data;
}

export function levelRank(l: ObservabilityLevel): number {
  return OBSERVABILITY_LEVELS.indexOf(l);
}

/** The reasons the manifest does not satisfy the requirements (empty when it does). */
export function unmetRequirements(m: AgentManifest, bundleSha256: string, req: Requirements): string[] {
  const unmet: string[] = [];
  if (req.egress) {
    const allowed = new Set(req.egress.map(parseEgressEntry).map((r) => `${r.host}:${r.port}`));
    for (const r of egressRules(m)) if (!allowed.has(`${r.host}:${r.port}`)) unmet.push(`egress to ${r.host}:${r.port} is declared but not allowed by the requirements`);
  }
  if (req.observability && levelRank(m.observability) > levelRank(req.observability)) {
    unmet.push(`observability is ${m.observability}, more than the required ${req.observability}`);
  }
  if (req.bundle_sha256 && req.bundle_sha256 !== bundleSha256) unmet.push("the bundle is not the one required");
  return unmet;
}

export function assertRequirements(m: AgentManifest, bundleSha256: string, req: Requirements): void {
  const unmet = unmetRequirements(m, bundleSha256, req);
  if (unmet.length) throw new AgentError(AgentCode.GUARANTEE_UNMET, `refused: ${unmet.join("; ")}`, { details: { unmet } });
}
