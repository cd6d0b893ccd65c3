/**
 * A release is a lease: the broker's signed statement of which share it released to which
 * node key, under which registration, until when. The sealed share's HPKE aad is the
 * lease text, so a share cannot be moved to another lease. Wire format: docs/protocol.md.
 */
import { z } from "zod";

export const LEASE_TYPE = "cloister/kms-lease/v1" as const;
export const LEASE_PREFIX = "cloister/kms/v1 lease\n";

export const leaseSchema = z
  .object({
    type: z.literal(LEASE_TYPE),
    model_id: z.string(),
    key_id: z.string(),
    share_index: z.number().int().min(1).max(255),
    /** The node's attested signing address (what an owner revokes). */
    node: z.string(),
    /** SHA-256 hex of the X25519 key the share is sealed to (bound in the node's evidence). */
    recipient_key_id: z.string(),
    registration_sequence: z.number().int(),
    registration_sha256: z.string(),
    nonce: z.string(),
    issued_at: z.string().datetime(),
    expires_at: z.string().datetime(),
    /** The broker's attested signing address. */
    broker: z.string(),
  })
  .strict();

export type Lease = z.output<typeof leaseSchema>;

export const releaseResponseSchema = z
  .object({
    lease: z.string(),
    lease_signature: z.string().regex(/^(0x)?[0-9a-f]{130}$/),
    share: z.object({ enc: z.string(), ciphertext: z.string() }).strict(),
    registration: z.unknown(),
  })
  .strict();

export type ReleaseResponse = z.output<typeof releaseResponseSchema>;
