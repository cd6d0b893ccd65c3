/**
 * `--claim-until`: a pool's claim deadline as an ISO 8601 date or time ("2027-01-31",
 * "2027-01-31T12:00:00Z") or an offset from now ("+30d", "+12h", "+90m", "+45s"). "Now"
 * is the chain's clock (the latest block), which is what the contract compares with, so
 * an offset means the same on a chain whose time runs ahead of the wall clock.
 */
import { DataError } from "../../errors.js";

const UNIT_SECONDS: Record<string, bigint> = { s: 1n, m: 60n, h: 3600n, d: 86_400n, w: 604_800n };

/** Unix seconds of the deadline `text` names; `now` is the chain's time in unix seconds. */
export function parseClaimUntil(text: string, now: bigint): bigint {
  const rel = /^\+(\d{1,9})([smhdw])$/.exec(text.trim());
  if (rel) {
    const n = BigInt(rel[1] ?? "0");
    if (n === 0n) throw new DataError("POOL_BAD_DEADLINE", "--claim-until +N needs N > 0");
    return now + n * (UNIT_SECONDS[rel[2] ?? "s"] ?? 1n);
  }
  // Only ISO 8601 shapes: Date.parse accepts much else, in ways that depend on the engine.
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    const ms = Date.parse(text.trim());
    if (Number.isFinite(ms)) return BigInt(Math.floor(ms / 1000));
  }
  throw new DataError("POOL_BAD_DEADLINE", `--claim-until must be an ISO 8601 date (2027-01-31, 2027-01-31T12:00:00Z) or +N followed by s, m, h, d or w, not "${text}"`);
}

/** The deadline as an ISO string (UTC), for `data pool show`. */
export function formatDeadline(unixSeconds: bigint): string {
  return new Date(Number(unixSeconds) * 1000).toISOString();
}
