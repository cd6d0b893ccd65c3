/**
 * The plaintext's SHA-256, computed beside the AES-GCM work instead of after it.
 *
 * Sealing and opening must both hash the whole plaintext (the header names its SHA-256),
 * and SHA-256 costs about as much as AES-256-GCM or more (docs/notes/sealed-models.md,
 * Figures), so one thread doing both runs at half the cipher's speed or less. A worker thread (node:crypto's
 * createHash there too) hashes while the caller's thread encrypts or decrypts. Chunks
 * travel through a ring of SharedArrayBuffer slots (RING_BYTES, at least two chunks,
 * whatever the file's size): the caller fills a slot, posts its index, and reuses it once the worker
 * says it is done. Only the digest comes back. Slots are posted and released in batches of
 * half the ring: a worker woken per 1 MiB chunk (it hashes faster than the cipher runs)
 * sleeps between chunks, and a thread woken that often may be woken on the caller's core
 * (Linux prefers the waker's CPU), where the two take turns instead of running side by side.
 *
 * The ring costs a copy of every chunk on the caller's thread and a hand-off per batch,
 * which measured as much as the hashing itself. So where the worker can read the bytes for
 * itself, it does (rangeHasher below): a seal of a file hands it the input's descriptor, an
 * open into the node's memfd hands it the memfd, and only byte ranges travel. The ring
 * remains for plaintext that lives only in the caller's memory (sealBytes, openBytes).
 *
 * Starting a worker costs ~30 ms here, more than hashing a small file, so small inputs hash
 * inline, and one idle worker is kept (unref'd, so it never holds the process open) for the
 * next seal or open. Any failure of the worker (an exception, an exit, a bad message)
 * rejects with SealError(SEALED_HASH_WORKER_FAILED) and terminates that worker.
 */
import { createHash, type Hash } from "node:crypto";
import { Worker } from "node:worker_threads";
import { SealError } from "../../errors.js";
import { SealedFileCode } from "./codes.js";

export interface PlainHasher {
  /** A buffer of `length` bytes to fill with the next chunk (a ring slot), waiting while all are in use. */
  slot(length: number): Promise<Buffer>;
  /** Hashes `bytes` next: a buffer from slot() as is, anything else copied into a slot. */
  submit(bytes: Uint8Array): Promise<void>;
  digest(): Promise<string>;
  /** Releases the worker (idempotent; after a failure or instead of digest). */
  close(): Promise<void>;
}

/** Below this many bytes a worker's start and messages cost more than hashing inline. */
export const WORKER_MIN_BYTES = 8 * 1024 * 1024;
const RING_BYTES = 16 * 1024 * 1024;
const MAX_SLOTS = 16;

/**
 * The worker's code, run with `eval` (CommonJS) so that it is the same file whether this
 * module runs from src/ under tsx and vitest or compiled from dist/. It only hashes.
 */
export const HASH_WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { readSync } = require("node:fs");
const { createHash } = require("node:crypto");
let ring = null, slotSize = 0, h = null, fd = -1, base = 0, shared = null, buf = null;
const READ = 1 << 20;
parentPort.on("message", (m) => {
  if (m.t === "begin") { ring = Buffer.from(m.ring); slotSize = m.slotSize; shared = null; fd = -1; h = createHash("sha256"); return; }
  if (m.t === "chunks") { for (const c of m.list) h.update(ring.subarray(c.slot * slotSize, c.slot * slotSize + c.len)); parentPort.postMessage({ t: "done", slots: m.list.map((c) => c.slot) }); return; }
  if (m.t === "begin-fd") { fd = m.fd; base = m.offset; shared = null; h = createHash("sha256"); if (!buf) buf = Buffer.allocUnsafe(READ); return; }
  if (m.t === "begin-shared") { shared = Buffer.from(m.shared); base = m.offset; fd = -1; h = createHash("sha256"); return; }
  if (m.t === "range") {
    if (shared) { h.update(shared.subarray(base + m.from, base + m.to)); return; }
    for (let at = m.from; at < m.to; ) {
      const n = readSync(fd, buf, 0, Math.min(READ, m.to - at), base + at);
      if (n === 0) throw new Error("the file ended at byte " + at + ", before " + m.to);
      h.update(n === READ ? buf : buf.subarray(0, n));
      at += n;
    }
    return;
  }
  if (m.t === "end") { const hex = h.digest("hex"); h = null; ring = null; shared = null; fd = -1; if (buf) buf.fill(0); parentPort.postMessage({ t: "digest", hex }); return; }
  throw new Error("unknown message " + String(m && m.t));
});
`;

export function inlineHasher(): PlainHasher {
  let h: Hash | null = createHash("sha256");
  let scratch = Buffer.alloc(0);
  return {
    async slot(length) {
      if (scratch.length < length) scratch = Buffer.allocUnsafe(length);
      return scratch.subarray(0, length);
    },
    async submit(bytes) {
      if (!h) throw new SealError(SealedFileCode.SEALED_HASH_WORKER_FAILED, "the plaintext hasher is closed");
      h.update(bytes);
    },
    async digest() {
      if (!h) throw new SealError(SealedFileCode.SEALED_HASH_WORKER_FAILED, "the plaintext hasher is closed");
      const hex = h.digest("hex");
      h = null;
      scratch.fill(0);
      return hex;
    },
    async close() {
      h = null;
      scratch.fill(0);
    },
  };
}

let idle: Worker | null = null;
let live = 0;

/** Hash workers started and not yet exited, the idle one included (tests check failures end theirs). */
export function liveHashWorkers(): number {
  return live;
}

const ignore = (): void => undefined;

function takeWorker(source: string): Worker {
  if (source === HASH_WORKER_SOURCE && idle) {
    const w = idle;
    idle = null;
    w.off("error", ignore).ref();
    return w;
  }
  const w = new Worker(source, { eval: true });
  live++;
  w.once("exit", () => {
    live--;
    if (idle === w) idle = null; // an idle worker that dies is simply forgotten
  });
  return w;
}

/** Keeps a worker that finished a digest as the idle one (the next "begin" resets it), or ends it. */
function giveBack(w: Worker, source: string): void {
  if (source === HASH_WORKER_SOURCE && !idle) {
    w.on("error", ignore).unref();
    idle = w;
    return;
  }
  void w.terminate();
}

/**
 * One hash worker's life: its failures (an exception, an exit, a bad message) become one
 * SealError(SEALED_HASH_WORKER_FAILED) that ends the worker; digest() asks for the hash and
 * keeps the worker as the idle one; close() ends a worker abandoned mid-file (it holds half
 * a hash, so it is not kept). `onOther` takes the messages that are not the digest.
 */
interface Supervised {
  readonly w: Worker;
  /** Throws the failure, or that the hasher is closed. */
  check(): void;
  /** Sends what is pending (`beforeEnd`), then "end"; resolves with the digest. */
  digest(beforeEnd: () => void): Promise<string>;
  close(): Promise<void>;
}

function supervise(source: string, onOther: (m: Record<string, unknown>) => boolean, onDetach: () => void = () => undefined, onFailed: () => void = () => undefined): Supervised {
  const w = takeWorker(source);
  let failure: SealError | null = null;
  let closed = false;
  let onDigest: ((hex: string) => void) | null = null;
  let onFail: ((e: SealError) => void) | null = null;
  const onMessage = (m: Record<string, unknown>): void => {
    if (m["t"] === "digest" && typeof m["hex"] === "string") onDigest?.(m["hex"]);
    else if (!onOther(m)) fail("unexpected message from the hash worker");
  };
  const onError = (e: Error): void => fail(e.message, e);
  const onExit = (code: number): void => fail(`the hash worker exited (code ${code})`);
  const detach = (): void => {
    w.off("message", onMessage).off("error", onError).off("exit", onExit);
    closed = true;
    onDetach();
  };
  function fail(message: string, cause?: unknown): void {
    if (failure || closed) return;
    failure = new SealError(SealedFileCode.SEALED_HASH_WORKER_FAILED, `hashing the plaintext failed: ${message}`, cause === undefined ? {} : { cause });
    detach();
    w.on("error", ignore);
    void w.terminate();
    onFailed();
    onFail?.(failure);
  }
  const check = (): void => {
    if (failure) throw failure;
    if (closed) throw new SealError(SealedFileCode.SEALED_HASH_WORKER_FAILED, "the plaintext hasher is closed");
  };
  w.on("message", onMessage).on("error", onError).on("exit", onExit);
  return {
    w,
    check,
    async digest(beforeEnd) {
      check();
      const hex = await new Promise<string>((resolve, reject) => {
        onDigest = resolve;
        onFail = reject;
        beforeEnd();
        w.postMessage({ t: "end" });
      });
      detach();
      giveBack(w, source);
      return hex;
    },
    async close() {
      if (closed) return;
      detach();
      w.on("error", ignore);
      await w.terminate();
    },
  };
}

/** `source` is for tests (a worker that fails); production always runs HASH_WORKER_SOURCE. */
export function workerHasher(chunkSize: number, source: string = HASH_WORKER_SOURCE): PlainHasher {
  const slots = Math.max(2, Math.min(MAX_SLOTS, Math.floor(RING_BYTES / chunkSize)));
  const sab = new SharedArrayBuffer(slots * chunkSize);
  const ring = Buffer.from(sab);
  const busy: boolean[] = new Array<boolean>(slots).fill(false);
  let next = 0;
  let wake: (() => void) | null = null;
  const sv = supervise(
    source,
    (m) => {
      const done = m["slots"];
      if (m["t"] !== "done" || !Array.isArray(done) || !done.every((i) => typeof i === "number" && busy[i] === true)) return false;
      for (const i of done as number[]) busy[i] = false;
      wake?.();
      return true;
    },
    () => ring.fill(0),
    () => wake?.(),
  );

  const batch = Math.max(1, slots >> 1);
  let pending: { slot: number; len: number }[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    sv.w.postMessage({ t: "chunks", list: pending });
    pending = [];
  };
  sv.w.postMessage({ t: "begin", ring: sab, slotSize: chunkSize });

  const waitFree = async (i: number): Promise<void> => {
    if (busy[i]) flush(); // the slot may be waiting in an unsent batch
    while (busy[i]) {
      sv.check();
      await new Promise<void>((r) => (wake = r));
      wake = null;
    }
    sv.check();
  };
  const post = (i: number, len: number): void => {
    busy[i] = true;
    next = (i + 1) % slots;
    pending.push({ slot: i, len });
    if (pending.length >= batch) flush();
  };

  return {
    async slot(length) {
      if (length > chunkSize) throw new RangeError(`a chunk of ${length} bytes does not fit a ${chunkSize}-byte slot`);
      await waitFree(next);
      return ring.subarray(next * chunkSize, next * chunkSize + length);
    },
    async submit(bytes) {
      if (bytes.length > chunkSize) throw new RangeError(`a chunk of ${bytes.length} bytes does not fit a ${chunkSize}-byte slot`);
      const i = next;
      if (bytes.buffer === sab && bytes.byteOffset === i * chunkSize) sv.check(); // filled in place (slot())
      else {
        await waitFree(i);
        ring.set(bytes, i * chunkSize);
      }
      post(i, bytes.length);
    },
    digest: () => sv.digest(flush),
    close: () => sv.close(),
  };
}

export function plainHasher(plaintextSize: number, chunkSize: number, inWorker?: boolean): PlainHasher {
  return (inWorker ?? plaintextSize >= WORKER_MIN_BYTES) ? workerHasher(chunkSize) : inlineHasher();
}

/** Where a range hasher's worker reads the bytes itself: an open file descriptor (positional reads), or shared memory. */
export type HashSource = { readonly fd: number; readonly offset?: number } | { readonly shared: SharedArrayBuffer; readonly offset?: number };

/**
 * Hashes bytes the worker reads for itself, so nothing is copied or handed over on the
 * caller's thread: only byte ranges travel, a few per file. The caller says which ranges
 * are final (`add`, in order, from the start); the worker reads them from the file
 * descriptor (a second read of the page cache, on the worker's core) or from the shared
 * memory, and hashes them. A seal posts the whole input at once and the worker hashes it
 * beside the encryption; an open posts each chunk once the sink has written it, so the
 * hash covers the bytes that were written (the memfd llama.cpp loads), not a copy.
 *
 * The caller must keep the descriptor open and the bytes unchanged until digest() or
 * close() has returned (both wait for the worker).
 */
export interface RangeHasher {
  /** Bytes [from, to) of the source are final: hash them next (contiguous with the previous range). */
  add(from: number, to: number): void;
  digest(): Promise<string>;
  /** Releases the worker (idempotent; after a failure or instead of digest). */
  close(): Promise<void>;
}

/** Ranges are posted once this many bytes are pending: a worker woken per 1 MiB sleeps between chunks (see above). */
const RANGE_BATCH_BYTES = 4 * 1024 * 1024;

export function rangeHasher(src: HashSource, source: string = HASH_WORKER_SOURCE): RangeHasher {
  // The worker answers nothing but the digest in this mode.
  const sv = supervise(source, () => false);
  // Ranges are contiguous from 0, so what is pending is one range: [sent, expect).
  let sent = 0;
  let expect = 0;
  const flush = (): void => {
    if (expect === sent) return;
    sv.w.postMessage({ t: "range", from: sent, to: expect });
    sent = expect;
  };
  if ("fd" in src) sv.w.postMessage({ t: "begin-fd", fd: src.fd, offset: src.offset ?? 0 });
  else sv.w.postMessage({ t: "begin-shared", shared: src.shared, offset: src.offset ?? 0 });
  return {
    add(from, to) {
      sv.check();
      // Out of order or overlapping ranges would hash other bytes than the file's: refuse them here.
      if (from !== expect || to < from) throw new RangeError(`range [${from}, ${to}) does not follow byte ${expect}`);
      expect = to;
      if (expect - sent >= RANGE_BATCH_BYTES) flush();
    },
    digest: () => sv.digest(flush),
    close: () => sv.close(),
  };
}
