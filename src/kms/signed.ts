/**
 * Owner-signed documents: `{payload, signer, signature}` where `payload` is a JSON string
 * kept verbatim (never re-serialised: what was signed is exactly those bytes) and
 * `signature` is secp256k1 over it as an Ethereum personal message (EIP-191), like the
 * node's response signatures, so an owner may use any Ethereum wallet and the address can
 * later be the model's on-chain owner. The payload's `type` separates document kinds.
 */
import { z } from "zod";
import { createSigner, recoverAddress, type Signer } from "../seal/signing.js";
import { KmsCode, KmsError } from "./codes.js";

export const signedDocumentSchema = z
  .object({
    payload: z.string().min(2).max(256 * 1024),
    signer: z.string().regex(/^0x[0-9a-f]{40}$/),
    signature: z.string().regex(/^(0x)?[0-9a-f]{130}$/),
  })
  .strict();

export type SignedDocument = z.output<typeof signedDocumentSchema>;

export function signDocument(signer: Signer, payload: Readonly<Record<string, unknown>>): SignedDocument {
  if (signer.algo !== "ecdsa") throw new KmsError(KmsCode.KMS_SIGNATURE_INVALID, "owner documents are signed with a secp256k1 (ecdsa) key");
  const text = JSON.stringify(payload);
  return { payload: text, signer: signer.address, signature: signer.sign(text) };
}

/** Verifies the signature and parses the payload with `schema`; throws KMS_SIGNATURE_INVALID / KMS_BAD_REQUEST. */
export function openDocument<T>(doc: unknown, schema: z.ZodType<T, z.ZodTypeDef, unknown>): { payload: T; signer: string; doc: SignedDocument } {
  const d = signedDocumentSchema.safeParse(doc);
  if (!d.success) throw new KmsError(KmsCode.KMS_BAD_REQUEST, "not a signed document {payload, signer, signature}");
  let recovered: string;
  try {
    recovered = recoverAddress(d.data.payload, d.data.signature);
  } catch (cause) {
    throw new KmsError(KmsCode.KMS_SIGNATURE_INVALID, "the document's signature does not verify", { cause });
  }
  if (recovered !== d.data.signer) throw new KmsError(KmsCode.KMS_SIGNATURE_INVALID, "the document was not signed by the signer it names");
  let json: unknown;
  try {
    json = JSON.parse(d.data.payload);
  } catch (cause) {
    throw new KmsError(KmsCode.KMS_BAD_REQUEST, "the signed payload is not JSON", { cause });
  }
  const p = schema.safeParse(json);
  if (!p.success) {
    const i = p.error.issues[0];
    throw new KmsError(KmsCode.KMS_BAD_REQUEST, `signed payload: ${i ? `${i.path.join(".") || "(root)"}: ${i.message}` : "invalid"}`);
  }
  return { payload: p.data, signer: d.data.signer, doc: d.data };
}

/** An owner key: 32-byte secp256k1 secret, hex in a file the owner keeps. */
export function ownerSigner(secretHex: string): Signer {
  const clean = secretHex.trim().replace(/^0x/, "");
  if (!/^[0-9a-f]{64}$/i.test(clean)) throw new KmsError(KmsCode.KMS_BAD_REQUEST, "an owner key is 32 bytes of hex");
  return createSigner("ecdsa", Uint8Array.from(Buffer.from(clean, "hex")));
}
