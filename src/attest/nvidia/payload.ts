/**
 * The GPU evidence JSON that nvtrust's attestation SDK submits to NRAS and that NEAR AI
 * Cloud publishes as `nvidia_payload`:
 *   {"nonce": "<64 hex>", "arch": "HOPPER", "evidence_list": [{"certificate", "evidence", "arch"}]}
 * `certificate` is base64 of the PEM chain (nvtrust), or the PEM itself; `evidence` is base64
 * of the SPDM request || response bytes. Every GPU must verify and carry the payload nonce.
 * nvtrust's own evidence files (a bare array of {certificate, evidence, nonce, arch}) are
 * accepted too; all their nonces must agree.
 */
import { z } from "zod";
import type { Measurement } from "../../types.js";
import { equalBytes, fromHex, toHex, utf8 } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { CheckList, type Verification } from "../types.js";
import { verifySpdmEvidence } from "./verify-spdm.js";

const EvidenceItem = z.object({
  certificate: z.string().min(1),
  evidence: z.string().min(1),
  arch: z.string().optional(),
});
const NvtrustList = z.array(EvidenceItem.extend({ nonce: z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/) })).min(1);
const Payload = z.object({
  nonce: z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/),
  arch: z.string().optional(),
  evidence_list: z.array(EvidenceItem).min(1),
});

export interface NvidiaPayloadOptions {
  readonly expectedNonce?: Uint8Array;
  readonly trustedRootsPem?: readonly string[];
  readonly now?: Date;
}

const BASE64_RE = /^[A-Za-z0-9+/=\s]+$/;

function decodeBase64(s: string): Uint8Array | null {
  if (!BASE64_RE.test(s)) return null;
  return new Uint8Array(Buffer.from(s, "base64"));
}

/** The chain as PEM text, whichever of the two encodings the producer used. */
function certificatePem(field: string): string | null {
  if (field.includes("-----BEGIN CERTIFICATE-----")) return field;
  const raw = decodeBase64(field);
  if (!raw) return null;
  const text = utf8.decode(raw);
  return text.includes("-----BEGIN CERTIFICATE-----") ? text : null;
}

function failure(checks: CheckList): Verification {
  return checks.toVerification({ tee: "nvidia-gpu" });
}

/**
 * Verifies every GPU in an nvtrust/NEAR payload. Measurements are named
 * "gpu<i>.m<index>" (i = position in evidence_list). Never throws for bad evidence.
 */
export function verifyNvidiaPayload(payloadJson: string, opts: NvidiaPayloadOptions = {}): Verification {
  const checks = new CheckList();
  let json: unknown;
  try {
    json = JSON.parse(payloadJson);
  } catch {
    checks.fail("payload parses", AttestCode.GPU_EVIDENCE_INVALID, "nvidia_payload is not JSON");
    return failure(checks);
  }
  const list = NvtrustList.safeParse(json);
  if (list.success) {
    const nonces = new Set(list.data.map((e) => e.nonce.toLowerCase().replace(/^0x/, "")));
    if (nonces.size !== 1) {
      checks.fail("payload parses", AttestCode.GPU_NONCE_MISMATCH, "the evidence list's entries answer different nonces");
      return failure(checks);
    }
    json = { nonce: [...nonces][0], arch: list.data[0]?.arch, evidence_list: list.data };
  }
  const parsed = Payload.safeParse(json);
  if (!parsed.success) {
    checks.fail("payload parses", AttestCode.GPU_EVIDENCE_INVALID, `nvidia_payload has the wrong shape: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    return failure(checks);
  }
  const payload = parsed.data;
  const payloadNonce = fromHex(payload.nonce);
  checks.pass("payload parses", `${payload.evidence_list.length} GPU(s), arch ${payload.arch ?? "unstated"}`);

  if (opts.expectedNonce === undefined) checks.notChecked("payload nonce", "no expected nonce given: the evidence may be a replay");
  else if (equalBytes(payloadNonce, opts.expectedNonce)) checks.pass("payload nonce", toHex(payloadNonce));
  else checks.fail("payload nonce", AttestCode.GPU_NONCE_MISMATCH, `payload nonce ${toHex(payloadNonce)} is not the expected one`);

  const measurements: Record<string, Measurement> = {};
  let simulated = false;
  payload.evidence_list.forEach((item, i) => {
    const name = `gpu${i}`;
    const pem = certificatePem(item.certificate);
    const evidence = decodeBase64(item.evidence);
    if (pem === null || evidence === null) {
      checks.fail(`${name}: evidence decodes`, AttestCode.GPU_EVIDENCE_INVALID, "certificate or evidence is not base64/PEM");
      return;
    }
    // Each GPU must answer the payload's nonce; the payload nonce is compared to the caller's above.
    const v = verifySpdmEvidence(
      { evidence, certChainPem: pem, expectedNonce: payloadNonce, ...(opts.trustedRootsPem ? { trustedRootsPem: opts.trustedRootsPem } : {}), ...(opts.now ? { now: opts.now } : {}) },
      name,
    );
    checks.merge(v, name);
    simulated ||= v.simulated;
    Object.assign(measurements, v.measurements);
  });

  return checks.toVerification({ tee: "nvidia-gpu", simulated, measurements });
}
