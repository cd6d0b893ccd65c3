/**
 * The run receipt (docs/protocol.md "Agents"): what ran, under which rules, what it
 * touched, signed by the node's attested Ed25519 key over
 * `cloister/agent-receipt/v1:<sha256 of the receipt's canonical JSON>`.
 * The client checks the signature AND that the key is the one it attested itself.
 */
import { z } from "zod";
import { canonicalJson, sha256Hex } from "./canonical.js";
import { AgentError, AgentCode } from "./errors.js";
import { OBSERVABILITY_LEVELS } from "./manifest.js";
import { verifySignedText, type Signer } from "../seal/signing.js";
import { attestationDigest, type AttestedIdentity } from "./attestation-digest.js";
import type { OnSigned } from "../transparency/signed-hook.js";

export const RECEIPT_FORMAT = "cloister-agent-receipt/v1";
const sha = z.string().regex(/^[0-9a-f]{64}$/);

export const receiptSchema = z
  .object({
    format: z.literal(RECEIPT_FORMAT),
    run_id: z.string().max(100),
    agent: z.object({ name: z.string(), version: z.string(), developer_key: z.string() }).strict(),
    bundle_sha256: sha,
    manifest_sha256: sha,
    scanner_report_sha256: sha.nullable(),
    observability: z.enum(OBSERVABILITY_LEVELS),
    full_accepted: z.boolean(),
    requirements: z.record(z.unknown()).nullable(),
    sandbox: z.object({ kind: z.enum(["bubblewrap", "none"]), seccomp: z.boolean(), cgroup: z.string().nullable() }).strict(),
    egress: z.array(z.object({ host: z.string(), port: z.number(), connections: z.number(), bytes_out: z.number(), bytes_in: z.number() }).strict()),
    egress_refused: z.number(),
    input_sha256: sha,
    output_sha256: sha,
    outcome: z.string(),
    exit_code: z.number().nullable(),
    started_at: z.number(),
    duration_ms: z.number(),
    attestation: z.object({ tee: z.string(), signing_algo: z.literal("ed25519"), signing_address: z.string(), attestation_sha256: sha }).strict(),
  })
  .strict();

export type RunReceipt = z.infer<typeof receiptSchema>;

export interface SignedReceipt {
  readonly receipt: RunReceipt;
  readonly text: string;
  readonly signature: string;
  readonly signing_address: string;
  readonly signing_algo: "ed25519";
}

export function receiptSigningText(r: RunReceipt): string {
  return `cloister/agent-receipt/v1:${sha256Hex(canonicalJson(r))}`;
}

/** `onSigned` (src/transparency/signed-hook.ts) hears of every signed receipt: the node's receipt log. */
export function signReceipt(r: RunReceipt, signer: Signer, onSigned?: OnSigned): SignedReceipt {
  if (signer.algo !== "ed25519") throw new AgentError(AgentCode.RECEIPT_INVALID, "receipts are signed with the node's ed25519 key");
  const text = receiptSigningText(r);
  const signed: SignedReceipt = { receipt: r, text, signature: signer.sign(text), signing_address: signer.address, signing_algo: "ed25519" };
  onSigned?.({ kind: "agent-run", id: r.run_id, text, signature: signed.signature });
  return signed;
}

/**
 * Verifies a receipt against the node the caller attested itself (a report it checked
 * with its own nonce): signed by that node's Ed25519 key, and naming that attestation
 * (same TEE, same digest of the bound keys: attestation-digest.ts). Throws on any mismatch.
 */
export function verifyReceipt(value: unknown, node: AttestedIdentity): SignedReceipt {
  const attestedAddress = node.signingAddress;
  const shape = z.object({ receipt: receiptSchema, text: z.string(), signature: z.string(), signing_address: z.string(), signing_algo: z.literal("ed25519") }).strict().safeParse(value);
  if (!shape.success) throw new AgentError(AgentCode.RECEIPT_INVALID, `receipt: ${shape.error.issues[0]?.path.join(".")}: ${shape.error.issues[0]?.message}`);
  const s = shape.data;
  if (s.text !== receiptSigningText(s.receipt)) throw new AgentError(AgentCode.RECEIPT_INVALID, "the receipt's signed text does not hash its content");
  if (s.signing_address.toLowerCase() !== attestedAddress.toLowerCase() || s.receipt.attestation.signing_address.toLowerCase() !== attestedAddress.toLowerCase()) {
    throw new AgentError(AgentCode.RECEIPT_INVALID, "the receipt is not signed by the attested node key");
  }
  if (!verifySignedText({ text: s.text, signature: s.signature, signing_address: s.signing_address, signing_algo: "ed25519" })) {
    throw new AgentError(AgentCode.RECEIPT_INVALID, "the receipt's signature does not verify");
  }
  if (s.receipt.attestation.tee !== node.tee) throw new AgentError(AgentCode.RECEIPT_INVALID, `the receipt was made under a ${s.receipt.attestation.tee} attestation; the node attested ${node.tee}`);
  if (s.receipt.attestation.attestation_sha256 !== attestationDigest(node)) throw new AgentError(AgentCode.RECEIPT_INVALID, "the receipt names another attestation than the one verified (other boot or other keys)");
  return s;
}
