/**
 * Random bytes for the per-request hot path (request ids, receipt salts), drawn from the
 * platform CSPRNG (crypto.getRandomValues, browser-safe) a few KiB at a time: each call
 * to it is a getrandom system call, ~2.5 µs here, twice per completion. Every byte is
 * handed out once and the caller gets its own copy, so no two callers share bytes.
 * The same batching Node does for crypto.randomUUID. Not for keys: those come straight
 * from their library's generator.
 */
const POOL_BYTES = 4096;
let pool = new Uint8Array(0);
let offset = 0;

/** `n` fresh random bytes (n ≤ 4096), a copy the caller owns. */
export function pooledRandomBytes(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > POOL_BYTES) throw new RangeError(`pooledRandomBytes: 0..${POOL_BYTES} bytes, not ${n}`);
  if (offset + n > pool.length) {
    // A fresh buffer, never a refill in place: copies handed out earlier stay as they were.
    pool = crypto.getRandomValues(new Uint8Array(POOL_BYTES));
    offset = 0;
  }
  const out = pool.slice(offset, offset + n);
  // Wiped as it goes, so the pool never holds bytes someone else already has.
  pool.fill(0, offset, offset + n);
  offset += n;
  return out;
}
