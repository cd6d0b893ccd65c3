/**
 * Checks a response signature against the PINNED signer (never against whatever address
 * the response claims): the text must be exactly sha256(request we sent) ":" sha256(body
 * we received) [":" the client nonce we sent, when we sent one — so an answer recorded
 * for an earlier identical request cannot be replayed], and the signature must verify
 * for the attested address (docs/protocol.md, "Signatures").
 */
import { ClientError } from "../errors.js";
import { verifySignedText } from "../seal/signing.js";
import { ClientCode } from "./codes.js";
import type { PinnedNode } from "./attestation.js";

export function checkSignature(pinned: PinnedNode, signed: unknown, requestSha256: string, responseSha256: string, clientNonce?: string): void {
  if (!isRecord(signed) || typeof signed["text"] !== "string" || typeof signed["signature"] !== "string") {
    throw new ClientError(ClientCode.SIGNATURE_MISSING, "the response carries no signature");
  }
  const claimed = typeof signed["signing_address"] === "string" ? signed["signing_address"].toLowerCase() : "";
  if (claimed !== pinned.signingAddress) {
    throw new ClientError(ClientCode.SIGNER_MISMATCH, "the response is signed by a key other than the attested one", { details: { pinned: pinned.signingAddress, claimed } });
  }
  const expected = clientNonce ? `${requestSha256}:${responseSha256}:${clientNonce}` : `${requestSha256}:${responseSha256}`;
  if (signed["text"] !== expected) {
    const [req, res, nonce] = signed["text"].split(":");
    const which = req !== requestSha256 ? "request" : res !== responseSha256 ? "response" : nonce !== clientNonce ? "nonce" : "text";
    if (which === "nonce") {
      throw new ClientError(ClientCode.SIGNATURE_INVALID, "the signature does not carry the nonce we sent: a replayed or stale answer", { details: { which } });
    }
    throw new ClientError(ClientCode.SIGNATURE_INVALID, `the signature does not cover the ${which} body we ${which === "request" ? "sent" : "received"} (altered in transit)`, { details: { which } });
  }
  if (!verifySignedText({ text: expected, signature: signed["signature"], signing_address: pinned.signingAddress, signing_algo: pinned.signingAlgo })) {
    throw new ClientError(ClientCode.SIGNATURE_INVALID, "the response signature does not verify for the attested key");
  }
}

/** Reads the signature JSON from X-Cloister-Signature; undefined when absent or unreadable. */
export function signatureFromHeader(value: string | null): unknown {
  if (!value) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
