/**
 * verifyEvidence: what `cloister verify <file>` runs. It recognises the kind of a file and
 * sends it to the right verifier:
 *   - JSON: a Cloister, NEAR AI or dstack report; NEAR's nvidia_payload ({nonce,
 *     evidence_list}); nvtrust's evidence list ([{certificate, evidence, nonce}]); one
 *     GPU's {evidence, certificate}; an NRAS response ([["JWT", ...], {...}], needs a JWKS);
 *     a Tinfoil SEV-SNP bundle ({enclaveAttestationReport, vcek});
 *   - binary, or the same as hex text: an Intel DCAP quote (SGX v3, TDX v4/v5), a 1184-byte
 *     SEV-SNP report (needs its VCEK chain), SPDM GET_MEASUREMENTS evidence (needs the
 *     device chain).
 * Anything else is AttestationError(EVIDENCE_UNREADABLE).
 */
import { gunzipSync } from "node:zlib";
import type { JSONWebKeySet } from "jose";
import { AttestationError } from "../errors.js";
import type { Nonce } from "../types.js";
import { fromHex, utf8 } from "../util/bytes.js";
import { AttestCode } from "./codes.js";
import { NVIDIA_DEVICE_ROOT_PEM, verifyNrasResponse, verifyNvidiaPayload, verifySpdmEvidence } from "./nvidia/index.js";
import { applyPolicy } from "./policy/apply.js";
import type { ReportVerifyOptions } from "./report/options.js";
import { finish, type ReportVerification } from "./report/result.js";
import { checkSnpEvidence } from "./report/snp-evidence.js";
import { checkEvidenceNonce } from "./report/nonce-check.js";
import { newState } from "./report/state.js";
import { checkTdxQuote } from "./report/tdx-evidence.js";
import { SIMULATED_GPU_ROOTS_PEM } from "./simulator/roots.js";
import { SNP_REPORT_SIZE } from "./snp/index.js";
import type { Verification } from "./types.js";
import { acceptedUnchecked, DEFAULT_POLICY, reportKind, verifyAttestationReport, withUnchecked } from "./verify.js";
import { enforceUnchecked } from "./report/unchecked.js";

export interface EvidenceOptions extends ReportVerifyOptions {
  /** PEM chain for evidence that does not carry its own (SNP report, SPDM evidence). */
  readonly certChainPem?: string;
  /** NVIDIA's JWKS, for an NRAS response. */
  readonly jwks?: JSONWebKeySet;
}

export type EvidenceKind = "report" | "dcap-quote" | "snp-report" | "spdm" | "nvidia-payload" | "nras" | "snp-bundle";

const unreadable = (why: string): AttestationError => new AttestationError(AttestCode.EVIDENCE_UNREADABLE, why);

function asJson(bytes: Uint8Array): unknown {
  const text = utf8.decode(bytes).trim();
  if (!text.startsWith("{") && !text.startsWith("[")) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function asHex(bytes: Uint8Array): Uint8Array | null {
  if (bytes.length > 64 * 1024 * 1024) return null;
  const text = utf8.decode(bytes).replace(/\s+/g, "").replace(/^0x/i, "");
  if (text.length < 2 || text.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(text)) return null;
  return fromHex(text);
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
}

/** Binary kinds by their first bytes (DCAP quote header, SPDM header) or exact size (SNP). */
export function binaryKind(b: Uint8Array): "dcap-quote" | "snp-report" | "spdm" | null {
  if (b.length >= 2 && b[0] === 0x11 && b[1] === 0xe0) return "spdm"; // SPDM 1.1 GET_MEASUREMENTS
  const version = u16(b, 0);
  if (b.length > 48 && (version === 3 || version === 4 || version === 5) && u16(b, 2) === 2) return "dcap-quote";
  if (b.length === SNP_REPORT_SIZE && version >= 2 && version <= 5) return "snp-report";
  return null;
}

function jsonKind(v: unknown): EvidenceKind | null {
  if (reportKind(v)) return "report";
  if (Array.isArray(v)) {
    if (Array.isArray(v[0]) && v[0][0] === "JWT") return "nras";
    if (v.length > 0 && v.every((x) => typeof x === "object" && x !== null && "evidence" in x && "certificate" in x)) return "nvidia-payload";
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  if ("evidence_list" in v) return "nvidia-payload";
  if ("evidence" in v && "certificate" in v) return "nvidia-payload";
  if ("enclaveAttestationReport" in v && "vcek" in v) return "snp-bundle";
  return null;
}

function wrap(v: Verification): ReportVerification {
  return {
    ...v,
    signingAddress: null,
    signingAlgo: null,
    signingPublicKey: null,
    e2ePublicKey: null,
    appIdentity: null,
    unchecked: v.checks.filter((c) => c.skipped).map((c) => `${c.name}: ${c.detail ?? "not checked"}`),
  };
}

function judged(v: ReportVerification, opts: EvidenceOptions): ReportVerification {
  const allowSimulated = opts.allowSimulated ?? opts.policy?.allowSimulated ?? false;
  let out = v;
  if (v.simulated && !allowSimulated && !v.errors.some((e) => e.code === AttestCode.SIMULATED_NOT_ALLOWED)) {
    out = { ...v, verified: false, errors: [...v.errors, { code: AttestCode.SIMULATED_NOT_ALLOWED, message: "the evidence comes from the Cloister simulator" }], checks: [...v.checks, { name: "not simulated", ok: false, code: AttestCode.SIMULATED_NOT_ALLOWED, detail: "the evidence comes from the Cloister simulator" }] };
  }
  const accepted = acceptedUnchecked(opts);
  const p = applyPolicy(out, opts.policy ?? DEFAULT_POLICY, { allowSimulated, ...(opts.policyDir ? { baseDir: opts.policyDir } : {}) });
  return withUnchecked(enforceUnchecked({ ...out, ...p }, accepted));
}

export async function verifyEvidence(input: Uint8Array, opts: EvidenceOptions = {}): Promise<ReportVerification> {
  const json = asJson(input);
  if (json !== undefined) {
    const kind = jsonKind(json);
    if (kind === "report") return verifyAttestationReport(json, opts);
    if (kind === "nvidia-payload") return judged(wrap(gpuJson(json, opts)), opts);
    if (kind === "nras") return judged(wrap(await nras(json, opts)), opts);
    if (kind === "snp-bundle") return judged(snpBundle(json, opts), opts);
    throw unreadable("JSON that is not a report or evidence Cloister knows");
  }
  const bytes = binaryKind(input) ? input : asHex(input);
  const kind = bytes ? binaryKind(bytes) : null;
  if (!bytes || !kind) throw unreadable("not a DCAP quote, SEV-SNP report, SPDM evidence or a known JSON report");
  if (kind === "dcap-quote") {
    const s = newState();
    await checkTdxQuote(s, bytes, opts);
    checkEvidenceNonce(s.list, s.reportData, opts.nonce);
    return judged(finish(s), opts);
  }
  if (kind === "snp-report") {
    const s = newState();
    checkSnpEvidence(s, bytes, opts.certChainPem ?? null, opts);
    checkEvidenceNonce(s.list, s.reportData, opts.nonce);
    return judged(finish(s), opts);
  }
  if (!opts.certChainPem) throw unreadable("SPDM evidence needs the device certificate chain (--cert-chain)");
  return judged(wrap(verifySpdmEvidence({ evidence: bytes, certChainPem: opts.certChainPem, ...nonceOpt(opts.nonce), trustedRootsPem: gpuRoots(), ...(opts.now ? { now: opts.now } : {}) })), opts);
}

function gpuRoots(): string[] {
  return [NVIDIA_DEVICE_ROOT_PEM, ...SIMULATED_GPU_ROOTS_PEM];
}

function nonceOpt(nonce: Nonce | undefined): { expectedNonce?: Uint8Array } {
  return nonce ? { expectedNonce: fromHex(nonce) } : {};
}

/** NEAR payload, nvtrust's list (each item has its nonce), or one {evidence, certificate}. */
function gpuJson(json: unknown, opts: EvidenceOptions): Verification {
  let payload: unknown = json;
  if (Array.isArray(json)) {
    const first = json[0] as Record<string, unknown>;
    payload = { nonce: first["nonce"], arch: first["arch"], evidence_list: json };
  } else if (typeof json === "object" && json !== null && !("evidence_list" in json)) {
    const o = json as Record<string, unknown>;
    payload = { nonce: o["nonce"] ?? opts.nonce, arch: o["arch"], evidence_list: [o] };
  }
  return verifyNvidiaPayload(JSON.stringify(payload), { ...nonceOpt(opts.nonce), trustedRootsPem: gpuRoots(), ...(opts.now ? { now: opts.now } : {}) });
}

async function nras(json: unknown, opts: EvidenceOptions): Promise<Verification> {
  if (!opts.jwks) throw unreadable("an NRAS response needs NVIDIA's JWKS to verify (--jwks)");
  // The policy's GPU claims (measres, secboot, dbgstat) are NRAS appraisals: enforce them here.
  const claims = opts.policy?.gpu?.claims;
  return verifyNrasResponse(json, {
    jwks: opts.jwks,
    now: opts.now ?? new Date(),
    ...(opts.nonce ? { expectedNonce: opts.nonce } : {}),
    ...(claims ? { requiredClaims: Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined)) as Record<string, string | boolean> } : {}),
  });
}

/** Tinfoil's bundle: the report is base64(gzip(report)), the VCEK base64 DER. */
function snpBundle(json: unknown, opts: EvidenceOptions): ReportVerification {
  const o = json as { enclaveAttestationReport?: { body?: unknown }; vcek?: unknown };
  const body = o.enclaveAttestationReport?.body;
  if (typeof body !== "string" || typeof o.vcek !== "string") throw unreadable("SEV-SNP bundle without report body or VCEK");
  let report: Uint8Array;
  try {
    const raw = Buffer.from(body, "base64");
    report = new Uint8Array(raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw);
  } catch (cause) {
    throw new AttestationError(AttestCode.EVIDENCE_UNREADABLE, "SEV-SNP bundle report is not base64 gzip", { cause });
  }
  const vcekPem = `-----BEGIN CERTIFICATE-----\n${o.vcek.replace(/\s+/g, "").match(/.{1,64}/g)?.join("\n") ?? ""}\n-----END CERTIFICATE-----\n`;
  const s = newState();
  checkSnpEvidence(s, report, opts.certChainPem ?? vcekPem, opts);
  checkEvidenceNonce(s.list, s.reportData, opts.nonce);
  return finish(s);
}
