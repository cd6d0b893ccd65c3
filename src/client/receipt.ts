/**
 * Checks a receipt-log proof for an answer the client already verified: the checkpoint
 * must be signed by the node's pinned (attested) key, and the exchange's signed text
 * must be a leaf under it. Together with the attestation, that proves to anyone that
 * this node served exactly this exchange.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { ClientError } from "../errors.js";
import { verifySignedText, type SigningAlgo } from "../seal/signing.js";
import { verifyReceiptInclusion, type ReceiptProof } from "../transparency/receipt-log.js";
import { toHex } from "../util/bytes.js";
import { apiURL, type PinnedNode } from "./attestation.js";
import { ClientCode } from "./codes.js";

export interface SignedReceipt extends ReceiptProof {
  readonly checkpoint_signature: string;
  readonly signing_address: string;
  readonly signing_algo: SigningAlgo;
}

/** The text the node signed for an exchange (docs/protocol.md "Signatures"). */
export function exchangeText(requestBody: Uint8Array, responseBody: Uint8Array, clientNonce?: string): string {
  const t = `${toHex(sha256(requestBody))}:${toHex(sha256(responseBody))}`;
  return clientNonce ? `${t}:${clientNonce}` : t;
}

/**
 * `expectedIndex`: the leaf index the answer carried (x-cloister-receipt-index); the proof
 * must be for that leaf. `salt`: a sealed answer's (x-cloister-receipt-salt, from its
 * sealed trailer), which the node's proof leaves out; a proof that does carry one must agree.
 */
export function checkReceipt(pinned: PinnedNode, signedText: string, receipt: SignedReceipt, expectedIndex?: number, salt?: string): void {
  if (expectedIndex !== undefined && receipt.index !== expectedIndex) {
    throw new ClientError(ClientCode.SIGNATURE_INVALID, `the receipt log puts this exchange at leaf ${receipt.index}, the answer said ${expectedIndex}`);
  }
  if (receipt.signing_algo !== pinned.signingAlgo || receipt.signing_address.toLowerCase() !== pinned.signingAddress) {
    throw new ClientError(ClientCode.SIGNATURE_INVALID, "the receipt checkpoint is signed by another key than the attested node's");
  }
  if (!verifySignedText({ text: receipt.checkpoint, signature: receipt.checkpoint_signature, signing_address: receipt.signing_address, signing_algo: receipt.signing_algo })) {
    throw new ClientError(ClientCode.SIGNATURE_INVALID, "the receipt checkpoint's signature does not verify");
  }
  if (receipt.salt == null && salt === undefined) throw new ClientError(ClientCode.SIGNATURE_MISSING, "the receipt of a sealed exchange needs the salt from its sealed trailer (x-cloister-receipt-salt)");
  if (typeof receipt.salt === "string" && salt !== undefined && receipt.salt !== salt) throw new ClientError(ClientCode.SIGNATURE_INVALID, "the receipt's salt is not the one the answer carried");
  if (!verifyReceiptInclusion(signedText, { ...receipt, salt: receipt.salt ?? salt ?? null })) throw new ClientError(ClientCode.SIGNATURE_INVALID, "the exchange is not in the node's receipt log");
}

/** Fetches and checks the receipt for request `id`. */
export async function fetchReceipt(baseURL: string, id: string, pinned: PinnedNode, signedText: string, fetchImpl: typeof fetch, expectedIndex?: number, salt?: string): Promise<SignedReceipt> {
  const res = await fetchImpl(apiURL(baseURL, `receipts/${encodeURIComponent(id)}?signing_algo=${pinned.signingAlgo}`));
  if (!res.ok) throw new ClientError(ClientCode.SIGNATURE_MISSING, `no receipt for ${id} (HTTP ${res.status})`);
  const receipt = (await res.json()) as SignedReceipt;
  checkReceipt(pinned, signedText, receipt, expectedIndex, salt);
  return receipt;
}
