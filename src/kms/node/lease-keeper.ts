/**
 * Keeps a node's leases alive: renews at half the remaining lease time (retrying every few
 * seconds on failure) and, if the lease runs out without a renewal — the owner revoked the
 * node or its measurement, or the brokers are gone — calls onExpired, and the node stops
 * serving the model. So a revocation takes effect within one lease.
 */
import { KmsCode, KmsError } from "../codes.js";
import type { FetchedKey } from "./fetch-key.js";

export interface LeaseKeeper {
  /** Resolves with the reason when the lease expired unrenewed. */
  readonly expired: Promise<KmsError>;
  expiresAt(): Date;
  stop(): void;
}

export function keepLease(first: Date, renew: () => Promise<FetchedKey>, opts: { retryMs?: number; now?: () => number; onRenewFailed?: (e: unknown) => void } = {}): LeaseKeeper {
  const now = opts.now ?? Date.now;
  const retry = opts.retryMs ?? 2000;
  let expiry = first;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let lastError: unknown = null;
  let fire: (e: KmsError) => void = () => {};
  const expired = new Promise<KmsError>((resolve) => (fire = resolve));
  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => void tick(), Math.max(0, ms));
    timer.unref();
  };
  async function tick(): Promise<void> {
    if (stopped) return;
    if (now() >= expiry.getTime()) {
      stopped = true;
      const why = lastError instanceof KmsError ? `${lastError.code}: ${lastError.message}` : "no renewal";
      fire(new KmsError(KmsCode.KMS_LEASE_EXPIRED, `the model key's lease expired at ${expiry.toISOString()} without a renewal (${why})`, { details: { lastCode: lastError instanceof KmsError ? lastError.code : null } }));
      return;
    }
    try {
      const k = await renew();
      k.dataKey.fill(0);
      expiry = k.expiresAt;
      lastError = null;
      schedule((expiry.getTime() - now()) / 2);
    } catch (e) {
      lastError = e;
      opts.onRenewFailed?.(e);
      schedule(Math.min(retry, expiry.getTime() - now()));
    }
  }
  schedule((expiry.getTime() - now()) / 2);
  return {
    expired,
    expiresAt: () => expiry,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
