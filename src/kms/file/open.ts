/**
 * Opening a sealed model: check the header's key id and MAC, then authenticate and
 * decrypt chunk by chunk, handing each plaintext chunk to the sink as soon as it
 * authenticated. The sink must treat what it got as provisional until this returns:
 * only then are the final flag, the length and the plaintext SHA-256 known to be right.
 *
 * When a chunk fails, we look for where it belongs (each chunk authenticates only at its
 * own index) so the error says what happened: dropped, reordered, or corrupted.
 */
import { open } from "node:fs/promises";
import { SealError } from "../../errors.js";
import { openChunk } from "./chunk.js";
import { SealedFileCode } from "./codes.js";
import { chunkCount, chunkPlainLength, HEADER_MAC_LENGTH, parseHeaderPrefix, sealedFileLength, TAG_LENGTH, type SealedHeader } from "./format.js";
import { plainHasher, rangeHasher, WORKER_MIN_BYTES, type PlainHasher, type RangeHasher } from "./hasher.js";
import { bufferSource, fileSource, type ByteSource } from "./io.js";
import { chunkBinding, dataKeyId, fileKeys, headerMacValid } from "./keys.js";

export type PlainSink = (plaintext: Buffer, index: number) => Promise<void> | void;

export interface ReadHeader {
  readonly header: SealedHeader;
  /** Length of magic ‖ length ‖ JSON. */
  readonly headerLength: number;
  readonly encoded: Buffer;
}

/** Reads and parses the header without any key (for `cloister model inspect`); the MAC is not checked. */
export async function readSealedHeader(src: ByteSource): Promise<ReadHeader> {
  let want = 12;
  for (;;) {
    const prefix = Buffer.from(await src.read(0, want));
    if (prefix.length < want) throw new SealError(SealedFileCode.SEALED_TRUNCATED, "the sealed file ends inside its header");
    const r = parseHeaderPrefix(prefix);
    if ("header" in r) return { header: r.header, headerLength: r.headerLength, encoded: prefix.subarray(0, r.headerLength) };
    want = r.needed;
  }
}

export interface OpenOptions {
  /** Hash in a worker thread; default: for plaintexts of WORKER_MIN_BYTES or more. */
  readonly hashInWorker?: boolean;
  /** Replaces the plaintext hasher (tests inject a failing one). */
  readonly hasher?: (plaintextSize: number, chunkSize: number) => PlainHasher;
  /**
   * The sink writes chunk i's plaintext at `offset + i * chunk_size` of this file descriptor
   * (the node's memfd) before its promise resolves. The hash worker then reads the
   * plaintext back from there, so the check covers the bytes that will be served, and the
   * caller's thread copies nothing for it.
   */
  readonly plaintextFd?: { readonly fd: number; readonly offset?: number };
}

/**
 * The plaintext SHA-256 check runs in a worker beside the decryption (hasher.ts): each
 * authenticated chunk is copied into the worker's ring and then handed to the sink, which
 * may keep, overwrite or zero its buffer.
 */
export async function openStream(src: ByteSource, dataKey: Uint8Array, sink: PlainSink, opts: OpenOptions = {}): Promise<SealedHeader> {
  const { header, headerLength, encoded } = await readSealedHeader(src);
  if (dataKeyId(dataKey) !== header.key_id) throw new SealError(SealedFileCode.SEALED_WRONG_KEY, `this data key is not the one the file was sealed with (key id ${header.key_id})`);
  const keys = fileKeys(dataKey, Buffer.from(header.salt, "hex"));
  const mac = Buffer.from(await src.read(headerLength, HEADER_MAC_LENGTH));
  if (mac.length < HEADER_MAC_LENGTH) throw new SealError(SealedFileCode.SEALED_TRUNCATED, "the sealed file ends inside its header MAC");
  if (!headerMacValid(keys.macKey, encoded, mac)) throw new SealError(SealedFileCode.SEALED_HEADER_INVALID, "the sealed header was altered (its MAC does not verify)");
  const hh = chunkBinding(header, encoded);
  const n = chunkCount(header);
  const sealedLen = (i: number): number => chunkPlainLength(header, i) + TAG_LENGTH;
  const offsetOf = (i: number): number => headerLength + HEADER_MAC_LENGTH + i * (header.chunk_size + TAG_LENGTH);
  const expectedLength = sealedFileLength(header, headerLength);
  const ranged: RangeHasher | null = opts.plaintextFd && !opts.hasher && (opts.hashInWorker ?? header.plaintext_size >= WORKER_MIN_BYTES) ? rangeHasher(opts.plaintextFd) : null;
  const hash = ranged ? null : (opts.hasher ?? ((size, cs) => plainHasher(size, cs, opts.hashInWorker)))(header.plaintext_size, header.chunk_size);
  try {
    for (let i = 0; i < n; i++) {
      const final = i === n - 1;
      const sealed = await src.read(offsetOf(i), sealedLen(i));
      if (sealed.length < sealedLen(i)) {
        // The file ends early. Either it was cut, or a chunk was taken out of the middle and
        // what is left here is the (shorter) final chunk.
        if (sealed.length === sealedLen(n - 1) && !final && openChunk(keys.chunkKey, hh, n - 1, true, sealed) !== null) {
          throw new SealError(SealedFileCode.SEALED_CHUNK_DROPPED, `chunk ${i} is missing: the final chunk ${n - 1} sits at its position`, { details: { index: i } });
        }
        throw new SealError(SealedFileCode.SEALED_TRUNCATED, `the sealed file ends inside chunk ${i} of ${n}`, { details: { index: i } });
      }
      const plain = openChunk(keys.chunkKey, hh, i, final, sealed);
      if (plain === null) throw diagnose(keys.chunkKey, hh, header, i, Buffer.from(sealed), src.length < expectedLength);
      if (hash) await hash.submit(plain); // copied before the sink, which may zero it
      await sink(plain, i);
      ranged?.add(i * header.chunk_size, i * header.chunk_size + plain.length);
    }
    if (src.length > expectedLength) throw new SealError(SealedFileCode.SEALED_TRAILING_DATA, `${src.length - expectedLength} bytes follow the final chunk`);
    const sha = ranged ? await ranged.digest() : hash ? await hash.digest() : null;
    if (sha !== header.plaintext_sha256) throw new SealError(SealedFileCode.SEALED_PLAINTEXT_HASH_MISMATCH, "the opened plaintext's SHA-256 is not the header's");
  } finally {
    await Promise.all([hash?.close(), ranged?.close()]);
  }
  return header;
}

/** Chunk i did not authenticate: find the index (and flag) it does authenticate at, if any. */
function diagnose(key: Buffer, hh: Buffer, header: SealedHeader, i: number, sealed: Buffer, fileShort: boolean): SealError {
  const n = chunkCount(header);
  for (let j = 0; j < n; j++) {
    if (j === i || chunkPlainLength(header, j) + TAG_LENGTH !== sealed.length) continue;
    if (openChunk(key, hh, j, j === n - 1, sealed) !== null) {
      if (j > i && fileShort) return new SealError(SealedFileCode.SEALED_CHUNK_DROPPED, `chunk ${i} is missing: chunk ${j} sits at its position`, { details: { index: i, found: j } });
      return new SealError(SealedFileCode.SEALED_CHUNK_REORDERED, `chunk ${j} sits at position ${i}`, { details: { index: i, found: j } });
    }
  }
  if (i < n - 1 && openChunk(key, hh, i, true, sealed) !== null) {
    // Only a forger could make this: a chunk marked final before the end.
    return new SealError(SealedFileCode.SEALED_TRUNCATED, `chunk ${i} is marked final but the header says ${n} chunks`, { details: { index: i } });
  }
  return new SealError(SealedFileCode.SEALED_CHUNK_CORRUPT, `chunk ${i} does not authenticate (altered bytes)`, { details: { index: i } });
}

export async function openBytes(sealed: Uint8Array, dataKey: Uint8Array, opts: OpenOptions = {}): Promise<{ plaintext: Buffer; header: SealedHeader }> {
  const parts: Buffer[] = [];
  const header = await openStream(bufferSource(sealed), dataKey, (p) => void parts.push(Buffer.from(p)), opts);
  return { plaintext: Buffer.concat(parts), header };
}

/** Opens a sealed file, reading one chunk at a time. */
export async function openSealedFile(path: string, dataKey: Uint8Array, sink: PlainSink, opts: OpenOptions = {}): Promise<SealedHeader> {
  const fh = await open(path, "r").catch((cause: unknown) => {
    throw new SealError(SealedFileCode.SEALED_IO, `cannot read ${path}`, { cause });
  });
  try {
    return await openStream(await fileSource(fh), dataKey, sink, opts);
  } finally {
    await fh.close();
  }
}

/** The header of a sealed file on disk, unauthenticated (no key needed). */
export async function inspectSealedFile(path: string): Promise<ReadHeader & { fileLength: number; expectedLength: number }> {
  const fh = await open(path, "r").catch((cause: unknown) => {
    throw new SealError(SealedFileCode.SEALED_IO, `cannot read ${path}`, { cause });
  });
  try {
    const src = await fileSource(fh);
    const r = await readSealedHeader(src);
    return { ...r, fileLength: src.length, expectedLength: sealedFileLength(r.header, r.headerLength) };
  } finally {
    await fh.close();
  }
}
