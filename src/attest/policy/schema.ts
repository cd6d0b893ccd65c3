/**
 * Measurement policy (JSON). What a verifier trusts beyond "the hardware signed this":
 * which TCB statuses, which measurements, whether simulated evidence counts, whether a
 * GPU must be present, and optionally a Sigstore bundle that ties a measurement to a
 * signed source release. Parsed with zod at the boundary; unknown keys are refused so a
 * typo never silently weakens a policy.
 */
import { z } from "zod";
import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";
import { UNCHECKED_ITEMS } from "../types.js";

const hexList = z.array(z.string().regex(/^(0x)?[0-9a-fA-F]+$/, "hex").transform((s) => s.toLowerCase().replace(/^0x/, ""))).min(1);

export const measurementsPolicySchema = z
  .object({
    mrtd: hexList.optional(),
    rtmr0: hexList.optional(),
    rtmr1: hexList.optional(),
    rtmr2: hexList.optional(),
    rtmr3: hexList.optional(),
    mrseam: hexList.optional(),
    mrenclave: hexList.optional(),
    mrsigner: hexList.optional(),
    /** SEV-SNP launch measurement. */
    measurement: hexList.optional(),
    /** SHA-256 of the app compose file, as recorded in RTMR3. */
    compose_hash: hexList.optional(),
    /** SHA-256 of the model file, from an app manifest that RTMR3 measured (cloister-app-manifest). */
    model_sha256: hexList.optional(),
  })
  .strict();

export const sigstorePolicySchema = z
  .object({
    /** A Sigstore bundle (object) or a path to one (relative to the policy file). */
    bundle: z.union([z.string(), z.record(z.unknown())]),
    /** A Sigstore trusted_root.json (object or path); default: the public-good root shipped in @sigstore/tuf. */
    trustedRoot: z.union([z.string(), z.record(z.unknown())]).optional(),
    /** The signer's identity: certificate SAN (e.g. a GitHub workflow URL) and OIDC issuer. */
    identity: z.object({ subjectAlternativeName: z.string().optional(), issuer: z.string().optional() }).strict(),
  })
  .strict();

/**
 * SEV-SNP options handed to verifySnpReport (src/attest/snp/verify.ts). Both default to the
 * strict setting: VMPL 0 only, no migration agent. Raise maxVmpl only for a known SVSM or
 * paravisor deployment whose VMPL 0 code the measurement pins.
 */
export const snpPolicySchema = z
  .object({
    maxVmpl: z.number().int().min(0).max(3).optional(),
    allowMigrationAgent: z.boolean().optional(),
  })
  .strict();

export const policySchema = z
  .object({
    allowSimulated: z.boolean().optional(),
    tcbStatuses: z.array(z.string()).default(["UpToDate"]),
    /**
     * Kept for old policies: the TCB status is now required by default (TCB_UNCHECKED);
     * `requireTcbStatus: true` also fails a simulated report without collateral.
     */
    requireTcbStatus: z.boolean().optional(),
    /** Items that may stay unchecked (`tcb`, `gpu-rim`, `gpu-ocsp`); default none: each fails verification. */
    acceptUnchecked: z.array(z.enum(UNCHECKED_ITEMS)).optional(),
    measurements: measurementsPolicySchema.optional(),
    gpu: z
      .object({
        required: z.boolean().optional(),
        claims: z.object({ measres: z.literal("success").optional(), secboot: z.literal(true).optional(), dbgstat: z.literal("disabled").optional() }).strict().optional(),
      })
      .strict()
      .optional(),
    sigstore: sigstorePolicySchema.optional(),
    snp: snpPolicySchema.optional(),
  })
  .strict();

export type Policy = z.output<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;
export type SigstorePolicy = z.output<typeof sigstorePolicySchema>;
export type SnpPolicyOptions = z.output<typeof snpPolicySchema>;

export function parsePolicy(value: unknown): Policy {
  const r = policySchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new AttestationError(AttestCode.POLICY_INVALID, `policy: ${i ? `${i.path.join(".") || "(root)"}: ${i.message}` : "invalid"}`);
  }
  return r.data;
}
