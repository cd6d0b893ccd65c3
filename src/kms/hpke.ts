/**
 * HPKE (RFC 9180) for key shares: the owner seals each share to a broker's attested key,
 * the broker seals a released share to the key the node's evidence binds. Same suite as
 * E2E v1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, base mode) with its own
 * `info` per direction, so a sealed share can never be replayed as an E2E request or
 * the other way round. The aad carries what the share is for.
 */
import { e2eSuite } from "../seal/e2e/suite.js";
import { utf8 } from "../util/bytes.js";
import { KmsCode, KmsError } from "./codes.js";

export const UPLOAD_INFO = "cloister/kms/v1 upload";
export const RELEASE_INFO = "cloister/kms/v1 release";

export interface SealedShare {
  /** base64url of the encapsulated key and of the ciphertext. */
  readonly enc: string;
  readonly ciphertext: string;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64url");
const ab = (b: Uint8Array): ArrayBuffer => {
  const out = new ArrayBuffer(b.byteLength);
  new Uint8Array(out).set(b);
  return out;
};

export async function sealShare(recipient: Uint8Array, share: Uint8Array, info: string, aad: string): Promise<SealedShare> {
  const suite = e2eSuite();
  const ctx = await suite.createSenderContext({ recipientPublicKey: await suite.kem.deserializePublicKey(ab(recipient)), info: ab(utf8.encode(info)) });
  const ct = new Uint8Array(await ctx.seal(ab(share), ab(utf8.encode(aad))));
  return { enc: b64(new Uint8Array(ctx.enc)), ciphertext: b64(ct) };
}

export async function openShare(privateKey: Uint8Array, sealed: SealedShare, info: string, aad: string, code: KmsCode): Promise<Uint8Array> {
  const suite = e2eSuite();
  try {
    const recipientKey = await suite.kem.importKey("raw", ab(privateKey), false);
    const ctx = await suite.createRecipientContext({ recipientKey, enc: ab(Buffer.from(sealed.enc, "base64url")), info: ab(utf8.encode(info)) });
    return new Uint8Array(await ctx.open(ab(Buffer.from(sealed.ciphertext, "base64url")), ab(utf8.encode(aad))));
  } catch (cause) {
    throw new KmsError(code, "the sealed share does not open with this key and context", { cause });
  }
}

/** What an uploaded share is for: this model, this data key, this broker, this registration. */
export function uploadAad(modelId: string, keyId: string, brokerKeyId: string, registrationDigest: string, shareIndex: number): string {
  return `${UPLOAD_INFO}\n${modelId}\n${keyId}\n${brokerKeyId}\n${registrationDigest}\n${shareIndex}`;
}
