/**
 * C2SP signed-note: a UTF-8 text, a blank line, then one line per signature
 * "— <name> <base64(key id || signature)>". Ed25519 keys (algorithm byte 0x01); the key
 * id is the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key). Verifier keys
 * travel as "<name>+<hex key id>+<base64(0x01 || public key)>", as in Go's sumdb/note.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, equalBytes, toHex, utf8 } from "../util/bytes.js";
import { fromBase64, toBase64 } from "./base64.js";
import { TransparencyCode, TransparencyError } from "./errors.js";

const ALG_ED25519 = 0x01;
const SIG_PREFIX = "\u2014 ";

export interface NoteSigner {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly publicKey: Uint8Array;
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text, ending with a newline. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

function checkName(name: string): void {
  if (name.length === 0 || /[\s+]/u.test(name)) {
    throw new TransparencyError(TransparencyCode.NOTE_INVALID, "a note key name is non-empty and has no spaces or '+'");
  }
}

export function noteKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8.encode(name), new Uint8Array([0x0a, ALG_ED25519]), publicKey)).slice(0, 4);
}

export function noteSigner(name: string, secretKey: Uint8Array): NoteSigner {
  checkName(name);
  const publicKey = ed25519.getPublicKey(secretKey);
  return { name, publicKey, keyId: noteKeyId(name, publicKey), sign: (m) => ed25519.sign(m, secretKey) };
}

export function noteVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  checkName(name);
  if (publicKey.length !== 32) throw new TransparencyError(TransparencyCode.NOTE_INVALID, "an Ed25519 key is 32 bytes");
  return { name, publicKey, keyId: noteKeyId(name, publicKey) };
}

export function encodeVerifierKey(v: NoteVerifier): string {
  const key = toBase64(concatBytes(new Uint8Array([ALG_ED25519]), v.publicKey));
  return `${v.name}+${toHex(v.keyId)}+${key}`;
}

export function parseVerifierKey(text: string): NoteVerifier {
  // The base64 key may itself contain '+': split at the first two only (as Go's note does).
  const m = /^([^+\s]+)\+([0-9a-fA-F]{8})\+([A-Za-z0-9+/=]+)$/.exec(text.trim());
  if (!m) throw new TransparencyError(TransparencyCode.NOTE_INVALID, "a verifier key is name+keyid+key");
  const [, name, id, key] = m as unknown as [string, string, string, string];
  const raw = fromBase64(key);
  if (!raw || raw.length !== 33 || raw[0] !== ALG_ED25519) {
    throw new TransparencyError(TransparencyCode.NOTE_INVALID, "only Ed25519 verifier keys (algorithm 1) are supported");
  }
  const v = noteVerifier(name, raw.slice(1));
  if (toHex(v.keyId) !== id.toLowerCase()) throw new TransparencyError(TransparencyCode.NOTE_INVALID, "verifier key id does not match its key");
  return v;
}

export function signNote(text: string, signers: readonly NoteSigner[]): string {
  if (!text.endsWith("\n")) throw new TransparencyError(TransparencyCode.NOTE_INVALID, "a note's text ends with a newline");
  const msg = utf8.encode(text);
  const lines = signers.map((s) => {
    const blob = toBase64(concatBytes(s.keyId, s.sign(msg)));
    return `${SIG_PREFIX}${s.name} ${blob}\n`;
  });
  return `${text}\n${lines.join("")}`;
}

export function parseNote(note: string): SignedNote {
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new TransparencyError(TransparencyCode.NOTE_INVALID, "a signed note is text, a blank line and signature lines");
  const text = note.slice(0, split + 1);
  const sigLines = note.slice(split + 2, -1).split("\n");
  const signatures = sigLines.map((line) => {
    if (!line.startsWith(SIG_PREFIX)) throw new TransparencyError(TransparencyCode.NOTE_INVALID, "a signature line starts with an em dash");
    const [name, blob, extra] = line.slice(SIG_PREFIX.length).split(" ");
    if (!name || !blob || extra !== undefined) throw new TransparencyError(TransparencyCode.NOTE_INVALID, "a signature line is '— name base64'");
    const raw = fromBase64(blob);
    if (!raw || raw.length < 5) throw new TransparencyError(TransparencyCode.NOTE_INVALID, "a signature is a key id and a signature");
    return { name, keyId: raw.slice(0, 4), signature: raw.slice(4) };
  });
  return { text, signatures };
}

/**
 * Opens a note signed by `verifier` (other signatures, e.g. witnesses, are ignored
 * here). Throws CHECKPOINT_SIGNATURE_INVALID when the named key did not sign the text.
 */
export function openNote(note: string, verifier: NoteVerifier): SignedNote {
  const parsed = parseNote(note);
  const msg = utf8.encode(parsed.text);
  const ok = parsed.signatures.some(
    (s) =>
      s.name === verifier.name &&
      equalBytes(s.keyId, verifier.keyId) &&
      s.signature.length === 64 &&
      ed25519.verify(s.signature, msg, verifier.publicKey),
  );
  if (!ok) throw new TransparencyError(TransparencyCode.CHECKPOINT_SIGNATURE_INVALID, `the note carries no valid signature by ${verifier.name}`);
  return parsed;
}
