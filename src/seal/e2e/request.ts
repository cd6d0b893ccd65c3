/**
 * Sealing and opening a whole request body (RFC 9180 §6.1 single-shot, base mode), and
 * the secret both sides export from that same context to key the response (§5.3).
 * Exporting from the request context rather than having the client send a second public
 * key gives the same confidentiality (only the holder of the request context can derive
 * it: the client and the enclave) with no extra key, and binds the response to exactly
 * this request (RFC 9180 §9.8).
 */
import type { CipherSuite, RecipientContext, SenderContext } from "@hpke/core";
import { SealError } from "../../errors.js";
import { utf8 } from "../../util/bytes.js";
import { E2ECode } from "./codes.js";
import { assertX25519Key, E2E_INFO, e2eSuite } from "./suite.js";

/** Exporter context label for the response secret (RFC 9180 §5.3 `exporter_context`). */
const RESPONSE_EXPORT_LABEL = utf8.encode("cloister/e2e/v1 response");
export const RESPONSE_SECRET_LENGTH = 32;

/**
 * AAD prefix of the sealed credential: the API key travels as the SECOND message of the
 * request's HPKE context (RFC 9180 §5.2, sequence number 1), so a proxy after TLS sees no
 * key it could spend, and the credential cannot be moved to another request (its context
 * is that request's).
 */
const CREDENTIAL_AAD_PREFIX = utf8.encode("cloister/e2e/v1 credential\n");
/**
 * AAD prefix of the sealed spend permit (the market, docs/protocol.md "Paying a node"): the
 * next message of the same context after the credential (or after the body when there is
 * no credential), so a proxy can neither read the permit nor move it to another request.
 */
const PERMIT_AAD_PREFIX = utf8.encode("cloister/e2e/v1 permit\n");

export interface SealedRequest {
  /** The HPKE encapsulated key (32 bytes), sent in a header. */
  readonly enc: Uint8Array;
  readonly ciphertext: Uint8Array;
  /** The sealed credential (X-Cloister-E2E-Auth), when one was given. */
  readonly credential: Uint8Array | null;
  /** The sealed spend permit (X-Cloister-E2E-Permit), when one was given. */
  readonly permit?: Uint8Array | null;
  /** Keys the response; stays with the client. */
  readonly responseSecret: Uint8Array;
}

export interface OpenedRequest {
  readonly plaintext: Uint8Array;
  /** The opened credential (e.g. "Bearer sk-cloister-…"), null when none was sealed. */
  readonly credential: Uint8Array | null;
  /** The opened spend permit header value, null when none was sealed. */
  readonly permit?: Uint8Array | null;
  readonly responseSecret: Uint8Array;
}

async function exportSecret(ctx: SenderContext | RecipientContext): Promise<Uint8Array> {
  return new Uint8Array(await ctx.export(RESPONSE_EXPORT_LABEL, RESPONSE_SECRET_LENGTH));
}

function credentialAad(aad: Uint8Array, prefix: Uint8Array = CREDENTIAL_AAD_PREFIX): Uint8Array {
  const out = new Uint8Array(prefix.length + aad.length);
  out.set(prefix);
  out.set(aad, prefix.length);
  return out;
}

export async function sealRequest(
  recipientPublicKey: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  credential?: Uint8Array,
  permit?: Uint8Array,
  suite: CipherSuite = e2eSuite(),
): Promise<SealedRequest> {
  assertX25519Key(recipientPublicKey, "the recipient E2E key");
  const ctx = await suite.createSenderContext({ recipientPublicKey: await suite.kem.deserializePublicKey(copy(recipientPublicKey)), info: E2E_INFO });
  const ciphertext = new Uint8Array(await ctx.seal(copy(plaintext), copy(aad)));
  // Sealed after the body: sequence 1 of the same context (the node opens in this order).
  const sealedCredential = credential ? new Uint8Array(await ctx.seal(copy(credential), copy(credentialAad(aad)))) : null;
  const sealedPermit = permit ? new Uint8Array(await ctx.seal(copy(permit), copy(credentialAad(aad, PERMIT_AAD_PREFIX)))) : null;
  return { enc: new Uint8Array(ctx.enc), ciphertext, credential: sealedCredential, permit: sealedPermit, responseSecret: await exportSecret(ctx) };
}

/**
 * Imports the node's raw private key once (importing costs about as much as opening), for
 * `suite` (default: the Web Crypto suite; the node passes its own, src/gateway/hpke-node.ts).
 */
export async function importE2EPrivateKey(privateKey: Uint8Array, suite: CipherSuite = e2eSuite()): Promise<CryptoKey> {
  assertX25519Key(privateKey, "the node's E2E private key");
  return suite.kem.importKey("raw", copy(privateKey), false);
}

/** Throws SealError E2E_DECRYPT_FAILED when the body, the credential, the aad or the key does not match. */
export async function openRequest(
  privateKey: Uint8Array | CryptoKey,
  enc: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
  sealedCredential?: Uint8Array | null,
  sealedPermit?: Uint8Array | null,
  suite: CipherSuite = e2eSuite(),
): Promise<OpenedRequest> {
  const recipientKey = privateKey instanceof Uint8Array ? await importE2EPrivateKey(privateKey, suite) : privateKey;
  if (enc.length !== 32) throw new SealError(E2ECode.E2E_MALFORMED, "the encapsulated key must be 32 bytes");
  let ctx: RecipientContext;
  try {
    ctx = await suite.createRecipientContext({ recipientKey, enc: copy(enc), info: E2E_INFO });
  } catch (cause) {
    // A low-order or otherwise invalid point fails decapsulation (RFC 9180 §7.1.4).
    throw new SealError(E2ECode.E2E_MALFORMED, "the encapsulated key is not a valid X25519 public key", { cause });
  }
  let plaintext: Uint8Array;
  let credential: Uint8Array | null = null;
  let permit: Uint8Array | null = null;
  try {
    plaintext = new Uint8Array(await ctx.open(copy(ciphertext), copy(aad)));
    if (sealedCredential) credential = new Uint8Array(await ctx.open(copy(sealedCredential), copy(credentialAad(aad))));
    if (sealedPermit) permit = new Uint8Array(await ctx.open(copy(sealedPermit), copy(credentialAad(aad, PERMIT_AAD_PREFIX))));
  } catch (cause) {
    throw new SealError(E2ECode.E2E_DECRYPT_FAILED, "the sealed request did not authenticate (wrong key, route or metadata, or altered bytes)", { cause });
  }
  return { plaintext, credential, permit, responseSecret: await exportSecret(ctx) };
}

/** Web Crypto wants a plain ArrayBuffer-backed view it owns; subarrays of pooled Buffers are not that. */
function copy(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}
