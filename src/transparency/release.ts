/**
 * Release statements: what a published Cloister release (a node image, an agent, a data
 * pipeline, a key broker) measures as, and what it was built from, signed by the
 * releaser's Ed25519 key. The signed statement, as canonical JSON bytes, is one entry of
 * the release log. Judging a verified attestation against released statements is a
 * separate step (like applyPolicy): it only adds checks.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { z } from "zod";
import { CheckList, type Verification } from "../attest/types.js";
import { fromHex, toHex, utf8 } from "../util/bytes.js";
import { canonicalJson } from "./canonical-json.js";
import { TransparencyCode, TransparencyError } from "./errors.js";

const hex = z.string().regex(/^[0-9a-f]+$/, "lower-case hex");
const STATEMENT_CONTEXT = "cloister/release-statement/v1\n";

export const releaseStatementSchema = z
  .object({
    type: z.literal("cloister/release/v1"),
    component: z.enum(["node", "agent", "pipeline", "kms"]),
    name: z.string().min(1).max(200),
    version: z.string().min(1).max(100),
    source_commit: z.string().regex(/^[0-9a-f]{7,64}$/, "a hex commit id"),
    image_digests: z.array(z.string().max(200)).max(64).default([]),
    /** Register name (as src/attest names them: mrtd, rtmr0..3, measurement, compose_hash, ...) → value. */
    measurements: z.record(hex).refine((m) => Object.keys(m).length > 0, "a release names at least one measurement"),
    published_at: z.string().datetime(),
  })
  .strict();
export type ReleaseStatement = z.output<typeof releaseStatementSchema>;

export const signedReleaseSchema = z
  .object({
    statement: releaseStatementSchema,
    signer: hex.length(64),
    signature: hex.length(128),
  })
  .strict();
export type SignedRelease = z.output<typeof signedReleaseSchema>;

function message(statement: ReleaseStatement): Uint8Array {
  return utf8.encode(STATEMENT_CONTEXT + canonicalJson(statement));
}

export function parseReleaseStatement(value: unknown): ReleaseStatement {
  const r = releaseStatementSchema.safeParse(value);
  if (!r.success) throw new TransparencyError(TransparencyCode.STATEMENT_INVALID, `release statement: ${r.error.issues[0]?.path.join(".") ?? ""} ${r.error.issues[0]?.message ?? "invalid"}`);
  return r.data;
}

export function signRelease(statement: ReleaseStatement, secretKey: Uint8Array): SignedRelease {
  const s = parseReleaseStatement(statement);
  return { statement: s, signer: toHex(ed25519.getPublicKey(secretKey)), signature: toHex(ed25519.sign(message(s), secretKey)) };
}

/** Parses and checks the releaser's signature; `signers`, when given, lists the accepted keys (hex). */
export function openRelease(value: unknown, signers?: readonly string[]): SignedRelease {
  const r = signedReleaseSchema.safeParse(value);
  if (!r.success) throw new TransparencyError(TransparencyCode.STATEMENT_INVALID, `signed release: ${r.error.issues[0]?.path.join(".") ?? ""} ${r.error.issues[0]?.message ?? "invalid"}`);
  const s = r.data;
  if (signers && !signers.includes(s.signer)) throw new TransparencyError(TransparencyCode.STATEMENT_SIGNATURE_INVALID, "the release is signed by a key this client does not accept");
  if (!ed25519.verify(fromHex(s.signature), message(s.statement), fromHex(s.signer))) {
    throw new TransparencyError(TransparencyCode.STATEMENT_SIGNATURE_INVALID, "the release statement's signature does not verify");
  }
  return s;
}

/** The log entry for a signed release: its canonical JSON. */
export function releaseEntry(release: SignedRelease): Uint8Array {
  return utf8.encode(canonicalJson(release));
}

/** True when every measurement the release names equals the evidence's. */
export function releaseMatches(statement: ReleaseStatement, measurements: Readonly<Record<string, string>>): boolean {
  return Object.entries(statement.measurements).every(([name, value]) => measurements[name] === value);
}

export interface ReleaseMatch {
  readonly release: SignedRelease;
  readonly index: number;
  readonly treeSize: number;
}

/** Adds the release-log verdict to a verification (never removes a check). */
export function applyReleaseLog(v: Verification, match: ReleaseMatch | null, origin: string): Verification {
  const list = new CheckList();
  if (match) {
    const s = match.release.statement;
    list.pass("release log: measurements published", `${s.component} ${s.name} ${s.version} (commit ${s.source_commit}), entry ${match.index} of ${match.treeSize} in ${origin}, inclusion proof verified`);
  } else {
    list.fail("release log: measurements published", TransparencyCode.MEASUREMENT_NOT_RELEASED, `no release in ${origin} has this node's measurements: it runs code that was never published`);
  }
  return { ...v, verified: v.verified && list.ok, checks: [...v.checks, ...list.checks], errors: [...v.errors, ...list.errors] };
}
