/**
 * The owner's registration of a sealed model, signed by the owner's key (no chain yet;
 * the market's contracts will carry the same fields). A newer `sequence` from the same
 * owner replaces the older one at every broker: that is how the owner changes the policy
 * or revokes a node, and it takes effect at the node's next lease renewal.
 *
 * `price` and `royalty` are carried into the node's attestation report (app manifest) so
 * receipts can later pay the royalty recipient; settlement is the market's part.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { parsePolicy, policySchema, type Policy } from "../attest/policy/schema.js";
import { KmsCode, KmsError } from "./codes.js";
import { openDocument, signDocument, type SignedDocument } from "./signed.js";
import type { Signer } from "../seal/signing.js";

export const REGISTRATION_TYPE = "cloister/model-registration/v1" as const;

const sha = z.string().regex(/^[0-9a-f]{64}$/, "32-byte lower-case hex");
const address = z.string().regex(/^0x[0-9a-f]{40}$/, "0x + 40 lower-case hex");
const amount = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, "a decimal amount in the token's smallest unit");

export const registrationSchema = z
  .object({
    type: z.literal(REGISTRATION_TYPE),
    model_id: z.string().min(1).max(256),
    owner: address,
    /** Higher replaces lower; brokers refuse anything not newer than what they hold. */
    sequence: z.number().int().min(1),
    issued_at: z.string().datetime(),
    sealed_sha256: sha,
    plaintext_sha256: sha,
    plaintext_size: z.number().int().min(0),
    /** The sealed header's key_id: what the combined shares must derive. */
    key_id: z.string().regex(/^[0-9a-f]{32}$/),
    /**
     * Names one Shamir split of the key. Shares of different splits never combine, so a
     * reshare (a fresh split uploaded to a new set of brokers) makes a lost broker's old
     * share worthless. A registration update that keeps the shares keeps the split id.
     */
    split_id: z.string().regex(/^[0-9a-f]{32}$/),
    /** Shamir threshold t of n shares. */
    threshold: z.number().int().min(2).max(255),
    shares: z.number().int().min(2).max(255),
    price: z.object({ token: z.string().min(1).max(64), per_million_tokens: amount }).strict(),
    royalty: z.object({ recipient: address, per_million_tokens: amount }).strict(),
    /** Which nodes may receive the key: src/attest's policy (measurements, TCB statuses, GPU, allowSimulated). */
    policy: policySchema,
    /** Longest lease a broker grants; the node renews before it ends. */
    lease_seconds: z.number().int().min(5).max(86_400),
    /** Node signing addresses the owner revoked. */
    revoked_nodes: z.array(address).default([]),
  })
  .strict()
  .refine((r) => r.threshold <= r.shares, { message: "threshold must not exceed shares", path: ["threshold"] });

export type Registration = z.output<typeof registrationSchema>;
export type RegistrationInput = z.input<typeof registrationSchema>;

export interface OpenedRegistration {
  readonly registration: Registration;
  readonly policy: Policy;
  readonly doc: SignedDocument;
  /** SHA-256 of the signed payload string: names this exact registration. */
  readonly digest: string;
}

export function signRegistration(owner: Signer, r: Omit<RegistrationInput, "type" | "owner">): SignedDocument {
  const payload = registrationSchema.parse({ ...r, type: REGISTRATION_TYPE, owner: owner.address });
  return signDocument(owner, payload);
}

/** Verifies the owner's signature (the signer must be the `owner` field) and parses. */
export function openRegistration(doc: unknown): OpenedRegistration {
  const { payload, signer, doc: d } = openDocument(doc, registrationSchema);
  if (signer !== payload.owner) {
    throw new KmsError(KmsCode.KMS_SIGNATURE_INVALID, "the registration is signed by another key than its owner");
  }
  return { registration: payload, policy: parsePolicy(payload.policy), doc: d, digest: createHash("sha256").update(d.payload).digest("hex") };
}
