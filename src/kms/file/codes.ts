/**
 * Stable codes for sealed-file failures (SealError.code). Each way a sealed model can be
 * damaged or tampered with has its own code, so an operator learns what happened to the
 * file (a flipped bit is not a missing chunk). Never rename, only add.
 */
export const SealedFileCode = {
  /** Not a Cloister sealed file (magic), or the header is not readable JSON of a known format. */
  SEALED_MALFORMED: "SEALED_MALFORMED",
  /** A format version or cipher this code does not speak. */
  SEALED_VERSION_UNSUPPORTED: "SEALED_VERSION_UNSUPPORTED",
  /** The data key is not the one this file was sealed with (its key id differs). */
  SEALED_WRONG_KEY: "SEALED_WRONG_KEY",
  /** The header was altered after sealing (its MAC under the data key fails). */
  SEALED_HEADER_INVALID: "SEALED_HEADER_INVALID",
  /** A chunk's bytes were altered (it authenticates at no position). */
  SEALED_CHUNK_CORRUPT: "SEALED_CHUNK_CORRUPT",
  /** A chunk is missing from the middle: the one found belongs further on and the file is short. */
  SEALED_CHUNK_DROPPED: "SEALED_CHUNK_DROPPED",
  /** A chunk sits at another chunk's position (swapped or moved). */
  SEALED_CHUNK_REORDERED: "SEALED_CHUNK_REORDERED",
  /** The file ends before its final chunk. */
  SEALED_TRUNCATED: "SEALED_TRUNCATED",
  /** Bytes follow the final chunk (an appended or duplicated chunk). */
  SEALED_TRAILING_DATA: "SEALED_TRAILING_DATA",
  /** Every chunk authenticated but the plaintext's SHA-256 is not the header's (a bad seal). */
  SEALED_PLAINTEXT_HASH_MISMATCH: "SEALED_PLAINTEXT_HASH_MISMATCH",
  /** Could not read or write the file. */
  SEALED_IO: "SEALED_IO",
  /** The worker thread that hashes the plaintext failed or exited; nothing was vouched for. */
  SEALED_HASH_WORKER_FAILED: "SEALED_HASH_WORKER_FAILED",
} as const;

export type SealedFileCode = (typeof SealedFileCode)[keyof typeof SealedFileCode];
