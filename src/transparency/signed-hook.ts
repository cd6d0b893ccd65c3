/**
 * The one hook every signing point calls after it signed something a user may later need
 * to prove (docs/notes/transparency.md "Receipt log"): a completion's signature, an agent
 * run receipt, a data-contribution receipt, a key release. Whoever holds the receipt log
 * passes it in; the signing code does not know about logs. Hashes and ids only: `text` is
 * what was signed (digests, never content).
 */
export type SignedKind = "completion" | "agent-run" | "data-contribution" | "key-release";

export interface SignedRecord {
  readonly kind: SignedKind;
  /** What the record is fetched by later (a request id, a run id, a contribution id, broker seq). */
  readonly id: string;
  /** The exact text (or 0x digest) that was signed. */
  readonly text: string;
  readonly signature: string;
}

/** Returns the record's leaf index in the receipt log, when it has one. */
export type OnSigned = (r: SignedRecord) => number | undefined | void;
