/**
 * Release challenges: the broker's nonces. Each is good for one release request within
 * `ttlMs`; used and expired ones are remembered a while longer so a replay is answered
 * with what it is (KMS_NONCE_REPLAYED, KMS_NONCE_EXPIRED) rather than "unknown".
 * Bounded: at most `max` outstanding challenges (oldest dropped first).
 */
import { randomBytes } from "node:crypto";
import { KmsCode, KmsError } from "../codes.js";

interface Challenge {
  readonly modelId: string;
  readonly expiresAt: number;
  used: boolean;
}

export interface NonceBook {
  issue(modelId: string): { nonce: string; expiresAt: number };
  /** Consumes the nonce for this model or throws the reason it cannot be used. */
  consume(nonce: string, modelId: string): void;
}

export function createNonceBook(opts: { ttlMs?: number; max?: number; now?: () => number } = {}): NonceBook {
  const ttl = opts.ttlMs ?? 60_000;
  const max = opts.max ?? 10_000;
  const now = opts.now ?? Date.now;
  const book = new Map<string, Challenge>();
  const prune = (): void => {
    const t = now();
    for (const [k, c] of book) if (c.expiresAt + 10 * ttl < t) book.delete(k);
    while (book.size >= max) {
      const oldest = book.keys().next().value;
      if (oldest === undefined) break;
      book.delete(oldest);
    }
  };
  return {
    issue(modelId) {
      prune();
      const nonce = randomBytes(32).toString("hex");
      const expiresAt = now() + ttl;
      book.set(nonce, { modelId, expiresAt, used: false });
      return { nonce, expiresAt };
    },
    consume(nonce, modelId) {
      const c = book.get(nonce);
      if (!c || c.modelId !== modelId) throw new KmsError(KmsCode.KMS_NONCE_UNKNOWN, "this broker did not issue that nonce for this model (ask POST /v1/kms/challenge)");
      if (c.used) throw new KmsError(KmsCode.KMS_NONCE_REPLAYED, "that nonce was already used: a replayed release request");
      c.used = true;
      if (now() > c.expiresAt) throw new KmsError(KmsCode.KMS_NONCE_EXPIRED, "that nonce expired: a stale release request (ask for a fresh challenge)");
    },
  };
}
