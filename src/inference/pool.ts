/**
 * A fixed set of slots (llama.cpp context sequences) lent to one request at a time.
 * When every slot is busy, callers wait in a bounded FIFO queue; a full queue or a
 * wait longer than `queueTimeoutMs` fails fast with BACKEND_BUSY so the gateway can
 * answer 429/503 instead of piling up requests it cannot serve.
 */
import { InferenceError } from "../errors.js";
import { InferenceCode } from "./backend.js";

export interface PoolOptions {
  /** Most callers allowed to wait for a slot (default 16). */
  readonly maxQueue?: number;
  /** Longest wait for a slot before BACKEND_BUSY (default 30 s). */
  readonly queueTimeoutMs?: number;
}

interface Waiter<T> {
  resolve(slot: T): void;
  reject(err: unknown): void;
}

export class SlotPool<T> {
  readonly #free: T[];
  readonly #waiters: Waiter<T>[] = [];
  readonly #maxQueue: number;
  readonly #queueTimeoutMs: number;
  #closed = false;

  constructor(slots: readonly T[], options: PoolOptions = {}) {
    this.#free = [...slots];
    this.#maxQueue = options.maxQueue ?? 16;
    this.#queueTimeoutMs = options.queueTimeoutMs ?? 30_000;
  }

  get available(): number {
    return this.#free.length;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  acquire(signal?: AbortSignal): Promise<T> {
    if (this.#closed) return Promise.reject(new InferenceError(InferenceCode.BACKEND_UNAVAILABLE, "the inference backend is closed"));
    if (signal?.aborted) return Promise.reject(cancelled());
    const slot = this.#free.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    if (this.#waiters.length >= this.#maxQueue) {
      return Promise.reject(
        new InferenceError(InferenceCode.BACKEND_BUSY, `all inference slots are busy and ${this.#maxQueue} requests are already waiting; retry later`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
      };
      const waiter: Waiter<T> = {
        resolve: (s) => {
          cleanup();
          resolve(s);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      };
      const onAbort = (): void => waiter.reject(cancelled());
      const timer = setTimeout(
        () => waiter.reject(new InferenceError(InferenceCode.BACKEND_BUSY, `no inference slot became free within ${this.#queueTimeoutMs} ms; retry later`)),
        this.#queueTimeoutMs,
      );
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  release(slot: T): void {
    const next = this.#waiters[0];
    if (next && !this.#closed) next.resolve(slot);
    else this.#free.push(slot);
  }

  /** Fails every waiter; slots still lent out are simply never handed out again. */
  close(): void {
    this.#closed = true;
    for (const w of [...this.#waiters]) w.reject(new InferenceError(InferenceCode.BACKEND_UNAVAILABLE, "the inference backend is closing"));
  }
}

function cancelled(): InferenceError {
  return new InferenceError(InferenceCode.CANCELLED, "the request was cancelled by the client");
}
