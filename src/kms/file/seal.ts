/**
 * Sealing a model in one pass (format v2): each chunk is read once into a slot that a
 * worker thread hashes (hasher.ts) while this thread encrypts it, and the header, which
 * names the plaintext SHA-256, goes last into its fixed-size slot at offset 0 (its length
 * is known up front: the hash is 64 hex characters). Memory is a few chunks whatever the
 * file's size; node:crypto does the AES and the SHA-256.
 *
 * `version: 1` still writes v1 files (for readers older than v2): their chunks bind the
 * whole header, so the plaintext is hashed in a first pass.
 */
import { randomBytes } from "node:crypto";
import { writevSync } from "node:fs";
import { open, rm, type FileHandle } from "node:fs/promises";
import { SealError } from "../../errors.js";
import { sealChunk } from "./chunk.js";
import { SealedFileCode } from "./codes.js";
import { chunkCount, chunkPlainLength, DEFAULT_CHUNK_SIZE, encodeHeader, HEADER_MAC_LENGTH, PENDING_SHA256, SEALED_FORMAT_V1, SEALED_FORMAT_V2, sealedFileLength, TAG_LENGTH, type SealedHeader } from "./format.js";
import { inlineHasher, plainHasher, rangeHasher, WORKER_MIN_BYTES, type PlainHasher, type RangeHasher } from "./hasher.js";
import { bufferSource, fileSource, type ByteSource } from "./io.js";
import { chunkBinding, dataKeyId, fileKeys, headerMac } from "./keys.js";

export interface SealOptions {
  readonly dataKey: Uint8Array;
  readonly modelId: string;
  readonly chunkSize?: number;
  /** Precomputed plaintext SHA-256 (hex), trusted as given; default: computed while sealing. */
  readonly plaintextSha256?: string;
  /** The format to write; default 2. */
  readonly version?: 1 | 2;
  /** Hash in a worker thread; default: for inputs of WORKER_MIN_BYTES or more. */
  readonly hashInWorker?: boolean;
  /** Replaces the plaintext hasher (tests inject a failing one). */
  readonly hasher?: (plaintextSize: number, chunkSize: number) => PlainHasher;
}

/** Receives sealed bytes for `position` in the file (the header arrives last, at 0). */
export type SealSink = (parts: readonly Buffer[], position: number) => Promise<void> | void;

/** SHA-256 of a whole source, on this thread (a worker would only add its start: there is nothing to overlap). */
export async function sha256Of(src: ByteSource, step = DEFAULT_CHUNK_SIZE): Promise<string> {
  const h = inlineHasher();
  for (let off = 0; off < src.length; off += step) await h.submit(await src.readInto(off, await h.slot(Math.min(step, src.length - off))));
  return h.digest();
}

/** Seals `src`, handing every piece of the output to `write` with its position; returns the header. */
export async function sealStream(src: ByteSource, write: SealSink, opts: SealOptions): Promise<SealedHeader> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const v1 = opts.version === 1;
  const header: SealedHeader = {
    format: v1 ? SEALED_FORMAT_V1 : SEALED_FORMAT_V2,
    cipher: "AES-256-GCM",
    model_id: opts.modelId,
    chunk_size: chunkSize,
    plaintext_size: src.length,
    plaintext_sha256: opts.plaintextSha256 ?? (v1 ? await sha256Of(src, chunkSize) : PENDING_SHA256),
    salt: randomBytes(32).toString("hex"),
    key_id: dataKeyId(opts.dataKey),
  };
  const pending = encodeHeader(header);
  const headerLength = pending.length;
  const keys = fileKeys(opts.dataKey, Buffer.from(header.salt, "hex"));
  const binding = chunkBinding(header, pending);
  const n = chunkCount(header);
  const wantHash = !v1 && opts.plaintextSha256 === undefined;
  // Where the worker can read the input itself (a file, shared memory), it hashes all of it
  // from the start, beside the encryption, and nothing passes between the threads.
  const ranged: RangeHasher | null = wantHash && !opts.hasher && src.hashSource && (opts.hashInWorker ?? src.length >= WORKER_MIN_BYTES) ? rangeHasher(src.hashSource) : null;
  const hasher = wantHash && !ranged ? (opts.hasher ?? ((size, cs) => plainHasher(size, cs, opts.hashInWorker)))(src.length, chunkSize) : null;
  try {
    ranged?.add(0, src.length);
    for (let i = 0; i < n; i++) {
      const len = chunkPlainLength(header, i);
      // Else read straight into the hasher's slot: the worker hashes it while we encrypt it.
      const plain = hasher ? await src.readInto(i * chunkSize, await hasher.slot(len)) : await src.read(i * chunkSize, len);
      if (hasher) await hasher.submit(plain);
      await write(sealChunk(keys.chunkKey, binding, i, i === n - 1, plain), headerLength + HEADER_MAC_LENGTH + i * (chunkSize + TAG_LENGTH));
    }
    const sha = ranged ? await ranged.digest() : hasher ? await hasher.digest() : null;
    // The worker read the input for itself: a file changed meanwhile could give a header
    // whose hash is not that of the bytes encrypted (such a file fails to open, with
    // SEALED_PLAINTEXT_HASH_MISMATCH); say so now instead.
    if (ranged && (await src.changed?.())) throw new SealError(SealedFileCode.SEALED_IO, "the input changed while it was being sealed; seal it again once nothing writes to it");
    const done: SealedHeader = sha !== null ? { ...header, plaintext_sha256: sha } : header;
    const encoded = encodeHeader(done);
    if (encoded.length !== headerLength) throw new SealError(SealedFileCode.SEALED_MALFORMED, "the sealed header changed length (plaintext_sha256 must be 64 hex characters)");
    await write([encoded, headerMac(keys.macKey, encoded)], 0);
    return done;
  } finally {
    await Promise.all([hasher?.close(), ranged?.close()]);
  }
}

export async function sealBytes(plaintext: Uint8Array, opts: SealOptions): Promise<{ sealed: Buffer; header: SealedHeader }> {
  let out = Buffer.alloc(0);
  const header = await sealStream(
    bufferSource(plaintext),
    (parts, at) => {
      if (out.length === 0) {
        // The first piece is chunk 0 at the end of the header slot: the total length follows from the (pending) header.
        out = Buffer.alloc(sealedFileLength({ plaintext_size: plaintext.length, chunk_size: opts.chunkSize ?? DEFAULT_CHUNK_SIZE }, at - HEADER_MAC_LENGTH));
      }
      for (const p of parts) at += p.copy(out, at);
    },
    opts,
  );
  return { sealed: out, header };
}

/**
 * Seals a file to `outPath` (created, never overwritten; removed again if sealing fails).
 * Returns the header and the sealed file's SHA-256, which needs the header and so a pass
 * over the sealed file once it is complete.
 */
export async function sealFile(inPath: string, outPath: string, opts: SealOptions): Promise<{ header: SealedHeader; sealedSha256: string }> {
  const input = await open(inPath, "r").catch((cause: unknown) => {
    throw new SealError(SealedFileCode.SEALED_IO, `cannot read ${inPath}`, { cause });
  });
  try {
    const output = await open(outPath, "wx+", 0o644).catch((cause: unknown) => {
      throw new SealError(SealedFileCode.SEALED_IO, `cannot create ${outPath} (it must not exist yet)`, { cause });
    });
    let ok = false;
    try {
      const header = await sealStream(await fileSource(input), (parts, at) => {
        let rest = parts.filter((p) => p.length > 0);
        while (rest.length > 0) {
          // Synchronous, like the reads (io.ts fileSource): no pool round trip per chunk.
          const bytesWritten = writevSync(output.fd, rest, at);
          at += bytesWritten;
          rest = skip(rest, bytesWritten);
        }
      }, opts);
      // The sealed file's hash (for its registration) needs the header, written last, so it is
      // a pass over the finished file: in the hash worker, while the data goes to disk.
      const [synced, hashed] = await Promise.allSettled([output.sync(), sha256OfFile(output)]);
      if (synced.status === "rejected") throw synced.reason;
      if (hashed.status === "rejected") throw hashed.reason;
      const sealedSha256 = hashed.value;
      ok = true;
      return { header, sealedSha256 };
    } catch (e) {
      throw e instanceof SealError ? e : new SealError(SealedFileCode.SEALED_IO, `cannot write ${outPath}`, { cause: e });
    } finally {
      await output.close();
      if (!ok) await rm(outPath, { force: true });
    }
  } finally {
    await input.close();
  }
}

/** SHA-256 of a whole open file: read by the hash worker through the descriptor when large, else inline. */
export async function sha256OfFile(handle: FileHandle): Promise<string> {
  const src = await fileSource(handle);
  if (src.length < WORKER_MIN_BYTES) return sha256Of(src);
  const h = rangeHasher({ fd: handle.fd });
  try {
    h.add(0, src.length);
    return await h.digest();
  } finally {
    await h.close();
  }
}

/** The buffers left after `n` bytes were written from the front of `parts`. */
function skip(parts: readonly Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const p of parts) {
    if (n >= p.length) n -= p.length;
    else {
      out.push(n > 0 ? p.subarray(n) : p);
      n = 0;
    }
  }
  return out;
}
