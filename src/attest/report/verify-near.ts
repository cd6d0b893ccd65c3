/**
 * Verifies NEAR AI Cloud's attestation report: the gateway's attestation and each model's
 * (or a single attestation). NEAR's report_data: [0:32] = the signer (20-byte address or
 * 32-byte ed25519 key) zero-padded, or SHA-256(signer || SHA-256(TLS SPKI)) when TLS is
 * bound; [32:64] = the client's nonce. GPU evidence is tied to the CPU quote only through
 * the nonce (NEAR binds no hash of it). TCB status needs collateral NEAR does not ship.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { Hex } from "../../types.js";
import { concatBytes, equalBytes, fromHex, toHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { checkGpuPayload } from "./gpu-evidence.js";
import type { ReportVerifyOptions } from "./options.js";
import type { ReportState } from "./result.js";
import { nearAttestationSchema, nearReportSchema, parseWith, type NearAttestation } from "./schema.js";
import { ethereumAddress } from "./signer.js";
import { readTdQuoteFields } from "./td-quote.js";
import { checkComposeHash, checkEventLog, checkTdxQuote } from "./tdx-evidence.js";
import { checkNonce } from "./verify-cloister.js";

const clean = (h: string): string => h.toLowerCase().replace(/^0x/, "");

export async function verifyNearReport(s: ReportState, value: unknown, opts: ReportVerifyOptions): Promise<void> {
  const r = parseWith(nearReportSchema, value, "NEAR AI report");
  const models = r.model_attestations ?? [];
  if (!r.gateway_attestation && models.length === 0) {
    s.list.fail("report parses", AttestCode.EVIDENCE_UNREADABLE, "the report has no gateway_attestation and no model_attestations");
    return;
  }
  s.list.pass("report parses", `NEAR AI Cloud report: ${r.gateway_attestation ? "gateway + " : ""}${models.length} model attestation(s)`);
  // The model's attestation is the one that sees the data: its registers are the unprefixed ones.
  const primary = models[0] ?? r.gateway_attestation;
  if (r.gateway_attestation) await verifyNearAttestation(s, r.gateway_attestation, opts, primary === r.gateway_attestation ? undefined : "gateway");
  for (const [i, m] of models.entries()) {
    await verifyNearAttestation(s, m, opts, i === 0 ? undefined : `model ${m.model_name ?? i}`);
  }
}

export async function verifyNearSingle(s: ReportState, value: unknown, opts: ReportVerifyOptions): Promise<void> {
  const a = parseWith(nearAttestationSchema, value, "NEAR AI attestation");
  s.list.pass("report parses", "NEAR AI Cloud attestation");
  await verifyNearAttestation(s, a, opts, undefined);
}

async function verifyNearAttestation(s: ReportState, a: NearAttestation, opts: ReportVerifyOptions, prefix: string | undefined): Promise<void> {
  const name = (n: string): string => (prefix ? `${prefix}: ${n}` : n);
  if (!prefix) {
    s.signingAddress = a.signing_address.toLowerCase();
    s.signingAlgo = a.signing_algo;
    s.signingPublicKey = a.signing_public_key ? clean(a.signing_public_key) : null;
  }
  const nonce = prefix ? checkPrefixedNonce(s, clean(a.request_nonce), opts, name("nonce")) : checkNonce(s, clean(a.request_nonce), opts);
  const quote = fromHex(a.intel_quote);
  const qv = await checkTdxQuote(s, quote, opts, prefix);

  if (qv.reportData) {
    const rd = fromHex(qv.reportData);
    // ecdsa: the 20-byte address; ed25519: the 32-byte key (NEAR sends both as hex in signing_address).
    const signer = fromHex(a.signing_address);
    // The whole signer, never a prefix: a 20-byte address (ecdsa) or a 32-byte key (ed25519).
    // Truncating to 32 bytes let `signing_address || anything` verify and be reported as the signer.
    const signerLength = a.signing_algo === "ed25519" ? 32 : 20;
    const padded = concatBytes(signer, new Uint8Array(Math.max(0, 32 - signer.length)));
    if (!equalBytes(rd.subarray(32), fromHex(nonce))) {
      s.list.fail(name("report_data nonce"), AttestCode.NONCE_MISMATCH, `the quote's report_data carries nonce ${toHex(rd.subarray(32))}`);
    } else {
      s.list.pass(name("report_data nonce"), "the quote carries the nonce");
    }
    if (signer.length !== signerLength) {
      s.list.fail(name("report_data binds the signer"), AttestCode.SIGNING_KEY_MISMATCH, `signing_address is ${signer.length} bytes; an ${a.signing_algo} signer is ${signerLength}`);
    } else if (equalBytes(rd.subarray(0, 32), padded)) s.list.pass(name("report_data binds the signer"), a.signing_address);
    else {
      const tlsFp = typeof a["tls_cert_fingerprint"] === "string" ? fromHex(a["tls_cert_fingerprint"]) : null;
      if (tlsFp && equalBytes(rd.subarray(0, 32), sha256(concatBytes(signer, tlsFp)))) s.list.pass(name("report_data binds the signer and TLS key"));
      else s.list.fail(name("report_data binds the signer"), AttestCode.REPORT_DATA_MISMATCH, "report_data[0:32] is neither the signer nor SHA-256(signer || SHA-256(TLS SPKI))");
    }
  }

  if (a.signing_public_key && a.signing_algo === "ecdsa") {
    try {
      const addr = ethereumAddress(fromHex(a.signing_public_key));
      if (addr === a.signing_address.toLowerCase()) s.list.pass(name("signing address"), "is the address of signing_public_key");
      else s.list.fail(name("signing address"), AttestCode.SIGNING_KEY_MISMATCH, `signing_public_key's address is ${addr}`);
    } catch (e) {
      s.list.fail(name("signing address"), AttestCode.SIGNING_KEY_MISMATCH, e instanceof Error ? e.message : "unreadable key");
    }
  }

  // ed25519: report_data binds signing_address (the raw key); a different signing_public_key
  // would be an unbound key the client then trusts for signatures.
  if (a.signing_public_key && a.signing_algo === "ed25519") {
    if (clean(a.signing_public_key) === clean(a.signing_address)) s.list.pass(name("signing key"), "signing_public_key is the bound signing_address");
    else s.list.fail(name("signing key"), AttestCode.SIGNING_KEY_MISMATCH, "signing_public_key is not the ed25519 key in signing_address that report_data binds");
  }

  let rtmrs: readonly string[] | null = null;
  try {
    rtmrs = readTdQuoteFields(quote).rtmrs;
  } catch {
    rtmrs = null;
  }
  if (rtmrs) {
    const id = checkEventLog(s, a.event_log, rtmrs, prefix);
    if (!prefix) s.appIdentity = id;
    const tcb = tcbInfo(a.info["tcb_info"]);
    const compose = typeof tcb?.["app_compose"] === "string" ? (tcb["app_compose"] as string) : null;
    checkComposeHash(s, id, compose, a.info.compose_hash ?? null, prefix);
  }
  if (a.nvidia_payload) checkGpuPayload(s, a.nvidia_payload, nonce, opts.allowSimulated ?? false, opts.now ?? new Date(), prefix);
}

function checkPrefixedNonce(s: ReportState, requestNonce: string, opts: ReportVerifyOptions, name: string): Hex {
  if (opts.nonce === undefined) return requestNonce as Hex;
  if (opts.nonce === requestNonce) s.list.pass(name, "answers our nonce");
  else s.list.fail(name, AttestCode.NONCE_MISMATCH, `answers nonce ${requestNonce}, not ours`);
  return opts.nonce as string as Hex;
}

function tcbInfo(v: unknown): Record<string, unknown> | null {
  if (typeof v === "string") {
    try {
      const parsed: unknown = JSON.parse(v);
      return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : null;
}
