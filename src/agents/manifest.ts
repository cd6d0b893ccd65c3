/**
 * `cloister.agent.json` (docs/protocol.md "Agents"): parsed once at the boundary with zod,
 * trusted as `AgentManifest` inside. Egress entries name hosts, never IP addresses (the
 * proxy resolves and checks addresses itself); HTTPS (443) is the default port.
 */
import { z } from "zod";
import { AgentError, AgentCode } from "./errors.js";
import { canonicalJson, hashJson } from "./canonical.js";
import type { Sha256 } from "../types.js";

export const OBSERVABILITY_LEVELS = ["none", "metrics", "redacted", "full"] as const;
export type ObservabilityLevel = (typeof OBSERVABILITY_LEVELS)[number];

export const MANIFEST_FILE = "cloister.agent.json";

/** A DNS name (LDH labels, optionally one leading `*.` wildcard), lower-case, no IP literal. */
const HOST_RE = /^(\*\.)?(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;
const IPV4_LIKE = /^[0-9.]+$|^0x/i;

export interface EgressRule {
  /** Lower-case DNS name, or `*.suffix` for any name under suffix (not suffix itself). */
  readonly host: string;
  readonly port: number;
}

export function parseEgressEntry(entry: string): EgressRule {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(entry.trim().toLowerCase());
  const host = m?.[1] ?? "";
  const port = m?.[2] === undefined ? 443 : Number(m[2]);
  const tld = host.split(".").pop() ?? "";
  if (!m || !HOST_RE.test(host) || IPV4_LIKE.test(host) || /^[0-9]+$/.test(tld)) {
    throw new AgentError(AgentCode.MANIFEST_INVALID, `egress entry ${JSON.stringify(entry)} is not host[:port] with a DNS host name (IP addresses are not allowed)`);
  }
  if (port < 1 || port > 65535) throw new AgentError(AgentCode.MANIFEST_INVALID, `egress entry ${JSON.stringify(entry)} has an invalid port`);
  return { host, port };
}

const egressEntry = z.string().max(260).superRefine((s, ctx) => {
  try {
    parseEgressEntry(s);
  } catch (e) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: e instanceof Error ? e.message : String(e) });
  }
});

export const LIMIT_CEILINGS = { memoryMb: 4096, cpuSeconds: 600, wallSeconds: 900, outputBytes: 16 * 1024 * 1024, pids: 256 } as const;

const limitsSchema = z
  .object({
    memoryMb: z.number().int().min(32).max(LIMIT_CEILINGS.memoryMb).default(256),
    cpuSeconds: z.number().int().min(1).max(LIMIT_CEILINGS.cpuSeconds).default(10),
    wallSeconds: z.number().int().min(1).max(LIMIT_CEILINGS.wallSeconds).default(30),
    outputBytes: z.number().int().min(1).max(LIMIT_CEILINGS.outputBytes).default(1024 * 1024),
    pids: z.number().int().min(8).max(LIMIT_CEILINGS.pids).default(32),
  })
  .strict();

/** The limits of a manifest that names none (what a node keeps a sandbox warm for). */
export const DEFAULT_LIMITS = limitsSchema.parse({});

export const manifestSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "name: lower-case letters, digits and dashes, at most 63"),
    version: z.string().regex(/^\d{1,9}\.\d{1,9}\.\d{1,9}(-[0-9a-z.-]{1,40})?$/, "version: semver MAJOR.MINOR.PATCH[-pre]"),
    description: z.string().max(2000).default(""),
    entry: z.string().regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$/, "entry: a relative path inside the agent's directory"),
    models: z.array(z.string().min(1).max(200)).max(32).default([]),
    egress: z.array(egressEntry).max(64).default([]),
    observability: z.enum(OBSERVABILITY_LEVELS).default("none"),
    limits: limitsSchema.default({}),
    inputs: z
      .object({ type: z.literal("json").default("json"), maxBytes: z.number().int().min(1).max(16 * 1024 * 1024).default(1024 * 1024), description: z.string().max(2000).default("") })
      .strict()
      .default({}),
  })
  .strict();

export type AgentManifest = z.infer<typeof manifestSchema>;

export function parseManifest(value: unknown): AgentManifest {
  const r = manifestSchema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first?.path.join(".") || "manifest";
    throw new AgentError(AgentCode.MANIFEST_INVALID, `${MANIFEST_FILE}: ${where}: ${first?.message ?? "invalid"}`, { details: { issues: r.error.issues.length } });
  }
  return r.data;
}

export function parseManifestText(text: string): AgentManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AgentError(AgentCode.MANIFEST_INVALID, `${MANIFEST_FILE} is not valid JSON`);
  }
  return parseManifest(json);
}

/** The manifest with every default filled in, canonically serialised: what is hashed and attested. */
export function manifestCanonical(m: AgentManifest): string {
  return canonicalJson(m);
}

export function manifestHash(m: AgentManifest): Sha256 {
  return hashJson(m);
}

export function egressRules(m: AgentManifest): EgressRule[] {
  return m.egress.map(parseEgressEntry);
}

/** True when `host:port` (already canonical) is covered by one of the rules. */
export function egressAllows(rules: readonly EgressRule[], host: string, port: number): boolean {
  return rules.some((r) => r.port === port && (r.host.startsWith("*.") ? host.endsWith(r.host.slice(1)) && host.length > r.host.length - 1 : host === r.host));
}
