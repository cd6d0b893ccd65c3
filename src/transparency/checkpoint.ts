/**
 * C2SP tlog-checkpoint: the body of a signed note,
 *   <origin>\n<tree size, decimal>\n<base64 root hash>\n[extension lines]
 * The origin names the log, so a checkpoint of one log can never pass for another's.
 */
import { fromBase64, toBase64 } from "./base64.js";
import { HASH_SIZE, type Hash } from "./merkle.js";
import { TransparencyCode, TransparencyError } from "./errors.js";
import { openNote, signNote, type NoteSigner, type NoteVerifier } from "./note.js";

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Hash;
  readonly extensions: readonly string[];
}

export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin.includes("\n") || c.origin.length === 0) throw new TransparencyError(TransparencyCode.CHECKPOINT_INVALID, "origin is one non-empty line");
  const ext = c.extensions.map((e) => `${e}\n`).join("");
  return `${c.origin}\n${c.size}\n${toBase64(c.root)}\n${ext}`;
}

export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split("\n");
  if (lines.length < 4 || lines.at(-1) !== "") throw new TransparencyError(TransparencyCode.CHECKPOINT_INVALID, "a checkpoint has origin, size and root lines");
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) throw new TransparencyError(TransparencyCode.CHECKPOINT_INVALID, "checkpoint size is a decimal number");
  const size = Number(sizeText);
  const root = fromBase64(rootText);
  if (!root || root.length !== HASH_SIZE) {
    throw new TransparencyError(TransparencyCode.CHECKPOINT_INVALID, "checkpoint root is a base64 SHA-256 hash");
  }
  if (!Number.isSafeInteger(size) || origin.length === 0) throw new TransparencyError(TransparencyCode.CHECKPOINT_INVALID, "bad checkpoint");
  return { origin, size, root, extensions: lines.slice(3, -1) };
}

export function signCheckpoint(c: Checkpoint, signers: readonly NoteSigner[]): string {
  return signNote(formatCheckpoint(c), signers);
}

/** Verifies the log's signature and that the checkpoint is for `origin`. */
export function openCheckpoint(note: string, verifier: NoteVerifier, origin?: string): Checkpoint {
  const { text } = openNote(note, verifier);
  const c = parseCheckpointText(text);
  const want = origin ?? verifier.name;
  if (c.origin !== want) throw new TransparencyError(TransparencyCode.CHECKPOINT_INVALID, `checkpoint is for log "${c.origin}", not "${want}"`);
  return c;
}
