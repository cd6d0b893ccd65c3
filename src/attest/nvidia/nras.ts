/**
 * NVIDIA Remote Attestation Service (NRAS) answers: `[["JWT", overall], {"GPU-0": jwt, ...}]`.
 * The overall token (EAT, RFC 9711) carries `submods` whose digests bind each per-GPU token;
 * every token is ES384-signed by a key in NVIDIA's JWKS. We verify signatures, issuer,
 * lifetime, the digest binding, the nonce and the appraisal claims.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from "jose";
import { AttestationError } from "../../errors.js";
import { toHex, utf8 } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { CheckList, type Verification } from "../types.js";

export const NRAS_ISSUER = "https://nras.attestation.nvidia.com";

export interface NrasOptions {
  readonly jwks: JSONWebKeySet;
  readonly now: Date;
  /** The nonce sent to NRAS (hex); each token's eat_nonce must equal it. */
  readonly expectedNonce?: string;
  /** Extra per-GPU claims that must equal these values (e.g. {"x-nvidia-gpu-driver-version": "570.172.08"}). */
  readonly requiredClaims?: Readonly<Record<string, string | number | boolean>>;
}

export interface NrasBody {
  readonly overall: string;
  readonly gpus: Readonly<Record<string, string>>;
}

/** The appraisal NVIDIA must report for each GPU (NRAS claims reference). */
const DEFAULT_GPU_CLAIMS: Readonly<Record<string, string | boolean>> = { measres: "success", secboot: true, dbgstat: "disabled" };

/** Reads NRAS's array shape; throws AttestationError(JWT_INVALID) for anything else. */
export function parseNrasBody(body: unknown): NrasBody {
  const bad = (why: string): never => {
    throw new AttestationError(AttestCode.JWT_INVALID, `NRAS response: ${why}`);
  };
  if (!Array.isArray(body) || body.length < 1) return bad("not an array");
  const head: unknown = body[0];
  if (!Array.isArray(head) || head[0] !== "JWT" || typeof head[1] !== "string") return bad('first element is not ["JWT", token]');
  const gpus: Record<string, string> = {};
  const rest: unknown = body[1];
  if (rest !== undefined) {
    if (typeof rest !== "object" || rest === null || Array.isArray(rest)) return bad("second element is not an object of device tokens");
    for (const [k, v] of Object.entries(rest)) {
      if (typeof v !== "string") return bad(`device token ${k} is not a string`);
      gpus[k] = v;
    }
  }
  return { overall: head[1], gpus };
}

type VerifyOutcome = { ok: true; payload: JWTPayload } | { ok: false; code: string; message: string };

/** Maps jose's error classes onto our stable codes. */
function classify(e: unknown): { code: string; message: string } {
  if (e instanceof joseErrors.JWKSNoMatchingKey) return { code: AttestCode.JWKS_KEY_NOT_FOUND, message: "no key in the JWKS matches the token's kid" };
  if (e instanceof joseErrors.JWTExpired) return { code: AttestCode.JWT_EXPIRED, message: "token has expired" };
  if (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === "nbf") return { code: AttestCode.JWT_EXPIRED, message: "token is not yet valid (nbf)" };
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return { code: AttestCode.JWT_INVALID, message: "token signature does not verify" };
  return { code: AttestCode.JWT_INVALID, message: e instanceof Error ? e.message : "token is invalid" };
}

async function verifyToken(token: string, keys: ReturnType<typeof createLocalJWKSet>, now: Date): Promise<VerifyOutcome> {
  try {
    const { payload } = await jwtVerify(token, keys, { issuer: NRAS_ISSUER, algorithms: ["ES384"], currentDate: now });
    return { ok: true, payload };
  } catch (e) {
    return { ok: false, ...classify(e) };
  }
}

/** submods: {"GPU-0": ["DIGEST", ["SHA-256", "<hex>"]]} -> {"GPU-0": "<hex>"}. */
function submodDigests(payload: JWTPayload): Record<string, string> | null {
  const sub: unknown = payload["submods"];
  if (typeof sub !== "object" || sub === null) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(sub)) {
    if (!Array.isArray(v) || v[0] !== "DIGEST" || !Array.isArray(v[1]) || v[1][0] !== "SHA-256" || typeof v[1][1] !== "string") return null;
    out[k] = v[1][1].toLowerCase();
  }
  return out;
}

function checkNonce(checks: CheckList, name: string, payload: JWTPayload, expected: string | undefined): void {
  if (expected === undefined) return; // said once for the whole response, in verifyNrasResponse
  const got = payload["eat_nonce"];
  if (typeof got === "string" && got.toLowerCase() === expected.toLowerCase()) checks.pass(`${name}: eat_nonce`);
  else checks.fail(`${name}: eat_nonce`, AttestCode.GPU_NONCE_MISMATCH, `${name} eat_nonce ${String(got)} is not the request nonce`);
}

function checkClaims(checks: CheckList, name: string, payload: JWTPayload, required: Readonly<Record<string, unknown>>): void {
  const wrong = Object.entries(required).filter(([k, v]) => payload[k] !== v);
  if (wrong.length === 0) checks.pass(`${name}: claims`, Object.keys(required).join(", "));
  else checks.fail(`${name}: claims`, AttestCode.GPU_CLAIM_FAILED, wrong.map(([k, v]) => `${k} is ${JSON.stringify(payload[k])}, expected ${JSON.stringify(v)}`).join("; "));
}

/**
 * Verifies an NRAS answer offline against a JWKS the caller fetched (and pinned). Never
 * throws for bad input: a body that is not NRAS's shape is a failed check (JWT_INVALID).
 */
export async function verifyNrasResponse(body: unknown, opts: NrasOptions): Promise<Verification> {
  const checks = new CheckList();
  const done = (): Verification => checks.toVerification({ tee: "nvidia-gpu" });
  // Without the request nonce, a genuine, unexpired token from another session (or another
  // machine) verifies just as well: say so in the readable report rather than staying silent.
  if (opts.expectedNonce === undefined) checks.notChecked("nonce", "no request nonce given: eat_nonce was not compared, so the token may be a replay");
  let parsed: NrasBody;
  try {
    parsed = parseNrasBody(body);
  } catch (e) {
    checks.fail("NRAS response parses", AttestCode.JWT_INVALID, e instanceof Error ? e.message : "unreadable");
    return done();
  }
  const keys = createLocalJWKSet(opts.jwks);
  const overall = await verifyToken(parsed.overall, keys, opts.now);
  if (!overall.ok) {
    checks.fail("overall token", overall.code, overall.message);
  } else {
    checks.pass("overall token", "ES384, issuer and lifetime");
    checkNonce(checks, "overall", overall.payload, opts.expectedNonce);
    checkClaims(checks, "overall", overall.payload, { "x-nvidia-overall-att-result": true });
    const digests = submodDigests(overall.payload);
    if (!digests) {
      checks.fail("submods", AttestCode.JWT_INVALID, "overall token has no readable submods digests");
    } else {
      const names = new Set([...Object.keys(digests), ...Object.keys(parsed.gpus)]);
      const broken = [...names].filter((n) => {
        const token = parsed.gpus[n];
        return token === undefined || digests[n] !== toHex(sha256(utf8.encode(token)));
      });
      if (broken.length === 0 && names.size > 0) checks.pass("submods", `${names.size} device token(s) bound by SHA-256`);
      else checks.fail("submods", AttestCode.JWT_INVALID, broken.length ? `device tokens not bound by the overall token: ${broken.join(", ")}` : "no device tokens");
    }
  }
  const required = { ...DEFAULT_GPU_CLAIMS, ...opts.requiredClaims };
  for (const [name, token] of Object.entries(parsed.gpus)) {
    const v = await verifyToken(token, keys, opts.now);
    if (!v.ok) {
      checks.fail(`${name}: token`, v.code, v.message);
      continue;
    }
    checks.pass(`${name}: token`, "ES384, issuer and lifetime");
    checkNonce(checks, name, v.payload, opts.expectedNonce);
    checkClaims(checks, name, v.payload, required);
  }
  return done();
}
