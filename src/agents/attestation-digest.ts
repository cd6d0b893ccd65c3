/**
 * The attestation a run receipt names: a digest of what the node's attestation report
 * binds into report_data for receipts (src/attest/binding.ts) — the TEE kind, the ed25519
 * signing key and this boot's E2E key. Both sides compute it: the node from its own keys,
 * the client from the report it verified itself (PinnedNode). Equal digests mean the
 * receipt was made under the attestation the client checked, this boot included (the E2E
 * key is fresh per boot). The per-request nonce is left out on purpose: it differs per
 * report, while a receipt must name the node's attested identity.
 */
import { canonicalJson, sha256Hex } from "./canonical.js";
import type { Sha256 } from "../types.js";
import { toHex } from "../util/bytes.js";

export const ATTESTATION_DIGEST_FORMAT = "cloister/agent-attestation/v1";

export interface AttestedIdentity {
  readonly tee: string;
  /** Hex ed25519 public key (the receipt signer). */
  readonly signingAddress: string;
  /** Raw 32-byte X25519 key requests are sealed to. */
  readonly e2ePublicKey: Uint8Array;
}

export function attestationDigest(a: AttestedIdentity): Sha256 {
  return sha256Hex(canonicalJson({ format: ATTESTATION_DIGEST_FORMAT, tee: a.tee, signing_algo: "ed25519", signing_address: a.signingAddress.toLowerCase(), e2e_public_key: toHex(a.e2ePublicKey) }));
}
