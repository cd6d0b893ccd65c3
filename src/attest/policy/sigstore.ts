/**
 * Offline Sigstore check that a measurement comes from a signed source release: the
 * bundle's certificate chains to the Sigstore trusted root, its Rekor entry and SCT are
 * valid (thresholds 1/1), the DSSE signature verifies, the signer matches the policy's
 * identity, and the in-toto predicate names the measurement (FACTS.md: `sigstore.verify`
 * reaches the network, so the Verifier is driven directly with the root from
 * @sigstore/tuf's seeds.json).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, resolve } from "node:path";
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { Verifier, toSignedEntity, toTrustMaterial, type VerificationPolicy } from "@sigstore/verify";
import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";
import type { SigstorePolicy } from "./schema.js";

export interface SigstoreResult {
  /** Measurements the signed predicate lists, by our register names (measurement, rtmr1, ...). */
  readonly measurements: Readonly<Record<string, string>>;
  readonly subjectAlternativeName: string | null;
  readonly issuer: string | null;
}

let publicGoodRoot: unknown = null;
function defaultTrustedRoot(): unknown {
  if (publicGoodRoot === null) {
    const seeds = createRequire(import.meta.url)("@sigstore/tuf/seeds.json") as Record<string, { targets: Record<string, string> }>;
    const b64 = seeds["https://tuf-repo-cdn.sigstore.dev"]?.targets["trusted_root.json"];
    if (!b64) throw new AttestationError(AttestCode.SIGSTORE_INVALID, "@sigstore/tuf ships no trusted_root.json");
    publicGoodRoot = JSON.parse(Buffer.from(b64, "base64").toString("utf8")) as unknown;
  }
  return publicGoodRoot;
}

function load(value: string | Record<string, unknown>, baseDir: string, what: string): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(readFileSync(isAbsolute(value) ? value : resolve(baseDir, value), "utf8")) as unknown;
  } catch (cause) {
    throw new AttestationError(AttestCode.POLICY_INVALID, `sigstore ${what} ${value} could not be read`, { cause });
  }
}

/** Tinfoil-style predicate: {snp_measurement, tdx_measurement:{rtmr1, rtmr2}}; also {measurement}. */
function predicateMeasurements(payload: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof payload !== "object" || payload === null) return out;
  const pred = (payload as { predicate?: unknown }).predicate;
  if (typeof pred !== "object" || pred === null) return out;
  const p = pred as Record<string, unknown>;
  for (const [k, name] of [["snp_measurement", "measurement"], ["measurement", "measurement"], ["mrtd", "mrtd"]] as const) {
    if (typeof p[k] === "string") out[name] = (p[k] as string).toLowerCase();
  }
  const tdx = p["tdx_measurement"];
  if (typeof tdx === "object" && tdx !== null) {
    for (const [k, v] of Object.entries(tdx)) if (typeof v === "string") out[k] = v.toLowerCase();
  }
  return out;
}

export function verifySigstoreRelease(policy: SigstorePolicy, baseDir = process.cwd()): SigstoreResult {
  const bundleJson = load(policy.bundle, baseDir, "bundle");
  const rootJson = policy.trustedRoot === undefined ? defaultTrustedRoot() : load(policy.trustedRoot, baseDir, "trusted root");
  try {
    const bundle = bundleFromJSON(bundleJson);
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(rootJson)), { tlogThreshold: 1, ctlogThreshold: 1 });
    const identity: VerificationPolicy = {
      ...(policy.identity.subjectAlternativeName ? { subjectAlternativeName: policy.identity.subjectAlternativeName } : {}),
      ...(policy.identity.issuer ? { extensions: { issuer: policy.identity.issuer } } : {}),
    };
    const signer = verifier.verify(toSignedEntity(bundle), identity);
    const env = bundle.content.$case === "dsseEnvelope" ? bundle.content.dsseEnvelope : null;
    if (!env) throw new AttestationError(AttestCode.SIGSTORE_INVALID, "the bundle is not a DSSE attestation");
    const statement = JSON.parse(Buffer.from(env.payload).toString("utf8")) as unknown;
    return {
      measurements: predicateMeasurements(statement),
      subjectAlternativeName: signer.identity?.subjectAlternativeName ?? null,
      issuer: signer.identity?.extensions?.issuer ?? null,
    };
  } catch (cause) {
    if (cause instanceof AttestationError) throw cause;
    throw new AttestationError(AttestCode.SIGSTORE_INVALID, `sigstore bundle does not verify: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
