/**
 * Stable codes for end-to-end envelope failures (SealError.code). They reach the client's
 * errors and the node's OpenAI-shaped 400 bodies (lower-cased there); never rename, only add.
 */
export const E2ECode = {
  /** The request or response envelope did not authenticate (wrong key, a flipped byte, wrong route). */
  E2E_DECRYPT_FAILED: "E2E_DECRYPT_FAILED",
  /** A sealed response stream ended before its authenticated final frame. */
  E2E_TRUNCATED: "E2E_TRUNCATED",
  /** The node requires sealed requests and this one was plain. */
  E2E_REQUIRED: "E2E_REQUIRED",
  /** Headers or framing are not an E2E v1 envelope (missing/invalid encapsulated key, bad frame length). */
  E2E_MALFORMED: "E2E_MALFORMED",
  /** The request was sealed to a key this node does not hold (rotated, or another node's key). */
  E2E_KEY_UNKNOWN: "E2E_KEY_UNKNOWN",
  /** The same encapsulated key was seen before: a replayed request. */
  E2E_REPLAY: "E2E_REPLAY",
  /** The sealed request's X-Cloister-E2E-Time is more than 5 minutes from the node's clock (or a stale replay). */
  E2E_STALE: "E2E_STALE",
  /** An envelope version this code does not speak. */
  E2E_VERSION_UNSUPPORTED: "E2E_VERSION_UNSUPPORTED",
} as const;

export type E2ECode = (typeof E2ECode)[keyof typeof E2ECode];
