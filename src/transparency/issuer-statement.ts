/**
 * Token issuer keys in the release log (RFC 9578 type 2): a node's Privacy Pass issuer key
 * is accepted by a wallet only when the release log publishes it. Everyone then sees the
 * same few keys per epoch, so a node cannot hand one user a key of their own and tell
 * that user's tokens apart. An entry is the releaser's signed statement, as canonical JSON.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { z } from "zod";
import { fromHex, toHex, utf8 } from "../util/bytes.js";
import { canonicalJson } from "./canonical-json.js";
import { TransparencyCode, TransparencyError } from "./errors.js";

const hex = z.string().regex(/^[0-9a-f]+$/, "lower-case hex");
const CONTEXT = "cloister/token-issuer-key/v1\n";

/** At most this many issuer keys per epoch: more would let an issuer sort users into small groups. */
export const MAX_ISSUER_KEYS_PER_EPOCH = 4;

export const issuerKeyStatementSchema = z
  .object({
    type: z.literal("cloister/token-issuer-key/v1"),
    issuer: z.string().min(1).max(200),
    token_type: z.literal(2),
    /** SHA-256 of the SubjectPublicKeyInfo, hex: the token key id (RFC 9578 §6.5). */
    key_id: hex.length(64),
    /** The SubjectPublicKeyInfo, base64url, as the issuer directory publishes it. */
    token_key: z.string().regex(/^[A-Za-z0-9_-]+$/).max(1024),
    /** The epoch the key serves (e.g. "2026-12"); keys of one epoch are counted together. */
    epoch: z.string().min(1).max(64),
    published_at: z.string().datetime(),
  })
  .strict()
  .refine((s) => toHex(sha256(new Uint8Array(Buffer.from(s.token_key, "base64url")))) === s.key_id, "key_id is not SHA-256 of token_key");
export type IssuerKeyStatement = z.output<typeof issuerKeyStatementSchema>;

export const signedIssuerKeySchema = z.object({ statement: issuerKeyStatementSchema, signer: hex.length(64), signature: hex.length(128) }).strict();
export type SignedIssuerKey = z.output<typeof signedIssuerKeySchema>;

const message = (s: IssuerKeyStatement): Uint8Array => utf8.encode(CONTEXT + canonicalJson(s));

export function issuerKeyStatement(o: { issuer: string; spki: Uint8Array; epoch: string; now?: Date }): IssuerKeyStatement {
  return parse(issuerKeyStatementSchema, {
    type: "cloister/token-issuer-key/v1",
    issuer: o.issuer,
    token_type: 2,
    key_id: toHex(sha256(o.spki)),
    token_key: Buffer.from(o.spki).toString("base64url"),
    epoch: o.epoch,
    published_at: (o.now ?? new Date()).toISOString(),
  });
}

export function signIssuerKey(s: IssuerKeyStatement, secretKey: Uint8Array): SignedIssuerKey {
  const st = parse(issuerKeyStatementSchema, s);
  return { statement: st, signer: toHex(ed25519.getPublicKey(secretKey)), signature: toHex(ed25519.sign(message(st), secretKey)) };
}

/** Parses and checks the releaser's signature; `signers`, when given, lists the accepted keys (hex). */
export function openIssuerKey(value: unknown, signers?: readonly string[]): SignedIssuerKey {
  const s = parse(signedIssuerKeySchema, value);
  if (signers && !signers.includes(s.signer)) throw new TransparencyError(TransparencyCode.STATEMENT_SIGNATURE_INVALID, "the issuer key is published by a signer this client does not accept");
  if (!ed25519.verify(fromHex(s.signature), message(s.statement), fromHex(s.signer))) {
    throw new TransparencyError(TransparencyCode.STATEMENT_SIGNATURE_INVALID, "the issuer key statement's signature does not verify");
  }
  return s;
}

export function issuerKeyEntry(s: SignedIssuerKey): Uint8Array {
  return utf8.encode(canonicalJson(s));
}

function parse<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new TransparencyError(TransparencyCode.STATEMENT_INVALID, `issuer key statement: ${r.error.issues[0]?.path.join(".") ?? ""} ${r.error.issues[0]?.message ?? "invalid"}`);
  return r.data;
}
