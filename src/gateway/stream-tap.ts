/**
 * Observes a byte stream without changing it: the signer hashes each chunk, the request
 * scope learns when the last byte went out (or the client left). highWaterMark 0 keeps
 * it pull-driven, so back-pressure from a slow client reaches the generator unchanged.
 */
export interface TapHooks {
  chunk?(bytes: Uint8Array): void;
  /** Runs before the stream closes: its work (signing, trailers) precedes the end of the response. */
  end?(): void | Promise<void>;
  abort?(reason: unknown): void;
}

export function tapStream(src: ReadableStream<Uint8Array>, hooks: TapHooks): ReadableStream<Uint8Array> {
  const reader = src.getReader();
  let settled = false;
  const abort = (reason: unknown): void => {
    if (settled) return;
    settled = true;
    hooks.abort?.(reason);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            if (!settled) {
              settled = true;
              await hooks.end?.();
            }
            ctrl.close();
            return;
          }
          hooks.chunk?.(value);
          ctrl.enqueue(value);
        } catch (err) {
          abort(err);
          ctrl.error(err);
        }
      },
      async cancel(reason) {
        abort(reason);
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

export function isEventStream(res: Response): boolean {
  return (res.headers.get("content-type") ?? "").startsWith("text/event-stream");
}
