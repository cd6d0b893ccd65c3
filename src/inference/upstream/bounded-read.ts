/**
 * Reading an upstream's body with a bound: a chunked body has no length to refuse up
 * front, and a hostile or broken upstream can send one that never ends.
 */

/** At most `max` bytes of `body`; past that the rest is cancelled unread (the upstream's connection is released) and `whole` is false. */
export async function readPrefix(body: ReadableStream<Uint8Array> | null, max: number): Promise<{ bytes: Uint8Array; whole: boolean }> {
  if (!body) return { bytes: new Uint8Array(0), whole: true };
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > max) {
      parts.push(value.subarray(0, max - total));
      total = max;
      await reader.cancel().catch(() => undefined);
      return { bytes: Buffer.concat(parts, total), whole: false };
    }
    total += value.byteLength;
    parts.push(value);
  }
  return { bytes: parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts, total), whole: true };
}
