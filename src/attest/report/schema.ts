/**
 * zod shapes of the reports we verify. Parse at the boundary: anything that does not fit
 * is EVIDENCE_UNREADABLE, and the verifiers below trust the types.
 */
import { z } from "zod";
import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";
import { REPORT_VERSION } from "./format.js";

const hex = z.string().regex(/^(0x)?([0-9a-fA-F]{2})*$/, "hex");
const hex64 = z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/, "32 bytes of hex");

const eventLog = z.union([z.string(), z.array(z.unknown())]);

export const cloisterReportSchema = z.object({
  version: z.literal(REPORT_VERSION),
  tee: z.enum(["tdx", "sev-snp", "simulated"]),
  simulated: z.boolean(),
  request_nonce: hex64,
  signing_address: z.string().min(1),
  signing_algo: z.enum(["ecdsa", "ed25519"]),
  signing_public_key: hex,
  e2e_public_key: hex,
  e2e_suite: z.object({ kem: z.string(), kdf: z.string(), aead: z.string() }),
  tls_spki_sha256: hex64.nullable(),
  report_data: hex,
  intel_quote: hex.nullable(),
  snp_report: hex.nullable(),
  snp_cert_chain: z.string().nullable(),
  nvidia_payload: z.string().nullable(),
  event_log: z.array(z.unknown()),
  info: z.object({ app_name: z.string(), version: z.string(), app_manifest: z.record(z.unknown()), compose_hash: z.string().nullable() }).passthrough(),
  collateral: z
    .object({
      intel: z.record(z.string()).nullable(),
      amd_crl: hex.nullable(),
      nvidia_rims: z.array(z.object({ driver: z.string(), vbios: z.string() })).nullable(),
      nvidia_ocsp: z.array(hex).nullable(),
      simulated: z.boolean(),
    })
    .optional(),
});
export type CloisterReportInput = z.infer<typeof cloisterReportSchema>;

const nearInfo = z
  .object({
    compose_hash: z.string().optional(),
    tcb_info: z.union([z.string(), z.object({ app_compose: z.string().optional() }).passthrough()]).optional(),
  })
  .passthrough();

/** One NEAR AI Cloud attestation (the gateway's, or one model's). */
export const nearAttestationSchema = z
  .object({
    model_name: z.string().optional(),
    signing_address: z.string().min(1),
    // Only the two algorithms whose key binding verifyNearAttestation checks.
    signing_algo: z.enum(["ecdsa", "ed25519"]).default("ecdsa"),
    signing_public_key: hex.optional(),
    request_nonce: hex64,
    intel_quote: hex,
    nvidia_payload: z.string().optional(),
    event_log: eventLog,
    info: nearInfo.default({}),
  })
  .passthrough();
export type NearAttestation = z.infer<typeof nearAttestationSchema>;

export const nearReportSchema = z.object({
  gateway_attestation: nearAttestationSchema.optional(),
  model_attestations: z.array(nearAttestationSchema).optional(),
}).passthrough();
export type NearReport = z.infer<typeof nearReportSchema>;

/** dstack guest agent GetQuoteResponse: {quote, event_log, report_data, vm_config?}. */
export const dstackQuoteSchema = z
  .object({
    quote: hex,
    event_log: eventLog,
    report_data: hex.optional(),
    vm_config: z.string().optional(),
  })
  .passthrough();
export type DstackQuote = z.infer<typeof dstackQuoteSchema>;

export function parseWith<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new AttestationError(AttestCode.EVIDENCE_UNREADABLE, `${what}: ${i ? `${i.path.join(".") || "(root)"}: ${i.message}` : "invalid"}`);
  }
  return r.data;
}
