/**
 * Turns push callbacks (node-llama-cpp's onTextChunk, an SSE parser) into something a
 * generator can pull from, so backends can `yield` tokens the moment they arrive.
 *
 * `take` + `ready` is the lean way to read it: a token arrives once per event-loop turn
 * (node-llama-cpp dispatches each decode on setImmediate), so the reader is almost always
 * waiting, and every promise or nested generator step per token is paid serially between
 * two decodes. The async iterator is the same protocol for readers that prefer `for await`.
 */
export interface Channel<T extends NonNullable<unknown>> extends AsyncIterable<T> {
  push(value: T): void;
  end(): void;
  fail(err: unknown): void;
  /** The oldest buffered value, or undefined when none is buffered. */
  take(): T | undefined;
  /**
   * Resolves true once a value is buffered, false once the channel has ended and the
   * buffer is drained; rejects with the failure once the buffer is drained.
   */
  ready(): Promise<boolean>;
}

export function createChannel<T extends NonNullable<unknown>>(): Channel<T> {
  const buffer: T[] = [];
  let done = false;
  let error: { err: unknown } | null = null;
  // The waiting reader's resolvers: a wait costs one promise and nothing per value pushed.
  let wakeResolve: ((ready: boolean) => void) | null = null;
  let wakeReject: ((err: unknown) => void) | null = null;
  const notify = (): void => {
    const resolve = wakeResolve;
    const reject = wakeReject;
    if (!resolve || !reject) return;
    wakeResolve = wakeReject = null;
    if (buffer.length > 0) resolve(true);
    else if (error) reject(error.err);
    else resolve(false);
  };
  const ready = (): Promise<boolean> => {
    if (buffer.length > 0) return Promise.resolve(true);
    if (error) return Promise.reject(error.err);
    if (done) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      wakeResolve = resolve;
      wakeReject = reject;
    });
  };
  const take = (): T | undefined => buffer.shift();
  return {
    push(value) {
      if (done) return;
      buffer.push(value);
      notify();
    },
    end() {
      done = true;
      notify();
    },
    fail(err) {
      if (done) return;
      error = { err };
      done = true;
      notify();
    },
    take,
    ready,
    [Symbol.asyncIterator](): AsyncIterator<T> {
      return {
        async next(): Promise<IteratorResult<T>> {
          for (;;) {
            const value = take();
            if (value !== undefined) return { value, done: false };
            if (!(await ready())) return { value: undefined, done: true };
          }
        },
      };
    },
  };
}
