/**
 * verifyAttestationReport: one entry point for the reports a verifier meets — Cloister's
 * (cloister/attestation/v1), NEAR AI Cloud's (whole report or one attestation) and a
 * dstack guest agent's GetQuote response — then the caller's policy on top.
 */
import { AttestationError } from "../errors.js";
import { AttestCode } from "./codes.js";
import { applyPolicy } from "./policy/apply.js";
import { parsePolicy } from "./policy/schema.js";
import type { ReportVerifyOptions } from "./report/options.js";
import { finish, type ReportVerification } from "./report/result.js";
import { newState } from "./report/state.js";
import { verifyCloisterReport } from "./report/verify-cloister.js";
import { verifyDstackQuote } from "./report/verify-dstack.js";
import { verifyDstackAttestation } from "./report/verify-dstack-attestation.js";
import { verifyNearReport, verifyNearSingle } from "./report/verify-near.js";
import { enforceUnchecked } from "./report/unchecked.js";
import type { UncheckedItem } from "./types.js";

export type { ReportVerifyOptions } from "./report/options.js";
export type { ReportVerification } from "./report/result.js";

/** What verification applies when the caller gives no policy: TCB status UpToDate, nothing pinned. */
export const DEFAULT_POLICY = parsePolicy({});

export type ReportKind = "cloister" | "near" | "near-attestation" | "dstack" | "dstack-attestation";

/** Which report this JSON value is, or null. */
export function reportKind(value: unknown): ReportKind | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  if (typeof o["version"] === "string" && o["version"].startsWith("cloister/")) return "cloister";
  if ("gateway_attestation" in o || "model_attestations" in o) return "near";
  if (typeof o["intel_quote"] === "string" && typeof o["signing_address"] === "string") return "near-attestation";
  // dstack's verifier input: SCALE-encoded VersionedAttestation as hex (it wins over quote/event_log there too).
  if (typeof o["attestation"] === "string" && /^(0x)?[0-9a-fA-F]+$/.test(o["attestation"])) return "dstack-attestation";
  if (typeof o["quote"] === "string" && "event_log" in o) return "dstack";
  return null;
}

export async function verifyAttestationReport(report: unknown, options: ReportVerifyOptions = {}): Promise<ReportVerification> {
  let value = report;
  if (typeof report === "string") {
    try {
      value = JSON.parse(report) as unknown;
    } catch (cause) {
      throw new AttestationError(AttestCode.EVIDENCE_UNREADABLE, "the report is not JSON", { cause });
    }
  }
  const kind = reportKind(value);
  if (!kind) throw new AttestationError(AttestCode.EVIDENCE_UNREADABLE, "not a Cloister, NEAR AI or dstack attestation report");
  const allowSimulated = options.allowSimulated ?? options.policy?.allowSimulated ?? false;
  const opts: ReportVerifyOptions = { ...options, allowSimulated };
  const s = newState();
  if (kind === "cloister") await verifyCloisterReport(s, value, opts);
  else if (kind === "near") await verifyNearReport(s, value, opts);
  else if (kind === "near-attestation") await verifyNearSingle(s, value, opts);
  else if (kind === "dstack") await verifyDstackQuote(s, value, opts);
  else await verifyDstackAttestation(s, value, opts);
  const result = finish(s);
  const accepted = acceptedUnchecked(options);
  // No policy is not "anything goes": the default one still wants TCB status UpToDate.
  const judged = applyPolicy(result, options.policy ?? DEFAULT_POLICY, { allowSimulated, ...(options.policyDir ? { baseDir: options.policyDir } : {}) });
  return withUnchecked(enforceUnchecked({ ...result, ...judged }, accepted));
}

/** The caller's accepted unchecked items: options and policy together. */
export function acceptedUnchecked(options: ReportVerifyOptions): UncheckedItem[] {
  return [...new Set([...(options.acceptUnchecked ?? []), ...(options.policy?.acceptUnchecked ?? [])])];
}

export function withUnchecked(v: ReportVerification): ReportVerification {
  return { ...v, unchecked: v.checks.filter((c) => c.skipped).map((c) => `${c.name}: ${c.detail ?? "not checked"}`) };
}
