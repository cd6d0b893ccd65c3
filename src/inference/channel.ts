/**
 * Turns push callbacks (node-llama-cpp's onTextChunk, an SSE parser) into an async
 * iterable, so backends can `yield` tokens the moment they arrive.
 */
export interface Channel<T> extends AsyncIterable<T> {
  push(value: T): void;
  end(): void;
  fail(err: unknown): void;
}

export function createChannel<T>(): Channel<T> {
  const buffer: T[] = [];
  let done = false;
  let error: { err: unknown } | null = null;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
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
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (buffer.length > 0) yield buffer.shift() as T;
        if (error) throw error.err;
        if (done) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}
