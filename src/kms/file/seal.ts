/**
 * Sealing a model: hash the plaintext (the header names its SHA-256, so the owner can
 * register it before any chunk is written), then encrypt it chunk by chunk. Memory is one
 * chunk whatever the file's size; node:crypto does the AES.
 */
import { createHash, randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { SealError } from "../../errors.js";
import { sealChunk } from "./chunk.js";
import { SealedFileCode } from "./codes.js";
import { chunkCount, chunkPlainLength, DEFAULT_CHUNK_SIZE, encodeHeader, SEALED_FORMAT, type SealedHeader } from "./format.js";
import { bufferSource, fileSource, type ByteSource } from "./io.js";
import { dataKeyId, fileKeys, headerDigest, headerMac } from "./keys.js";

export interface SealOptions {
  readonly dataKey: Uint8Array;
  readonly modelId: string;
  readonly chunkSize?: number;
  /** Precomputed plaintext SHA-256 (hex); default: computed in a first pass. */
  readonly plaintextSha256?: string;
}

export async function sha256Of(src: ByteSource, step = DEFAULT_CHUNK_SIZE): Promise<string> {
  const h = createHash("sha256");
  for (let off = 0; off < src.length; off += step) h.update(await src.read(off, step));
  return h.digest("hex");
}

/** Seals `src`, handing each piece of the output to `write` in order; returns the header. */
export async function sealStream(src: ByteSource, write: (bytes: Buffer) => Promise<void> | void, opts: SealOptions): Promise<SealedHeader> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const header: SealedHeader = {
    format: SEALED_FORMAT,
    cipher: "AES-256-GCM",
    model_id: opts.modelId,
    chunk_size: chunkSize,
    plaintext_size: src.length,
    plaintext_sha256: opts.plaintextSha256 ?? (await sha256Of(src, chunkSize)),
    salt: randomBytes(32).toString("hex"),
    key_id: dataKeyId(opts.dataKey),
  };
  const encoded = encodeHeader(header);
  const keys = fileKeys(opts.dataKey, Buffer.from(header.salt, "hex"));
  await write(encoded);
  await write(headerMac(keys.macKey, encoded));
  const hh = headerDigest(encoded);
  const n = chunkCount(header);
  for (let i = 0; i < n; i++) {
    const plain = await src.read(i * chunkSize, chunkPlainLength(header, i));
    for (const part of sealChunk(keys.chunkKey, hh, i, i === n - 1, plain)) await write(part);
  }
  return header;
}

export async function sealBytes(plaintext: Uint8Array, opts: SealOptions): Promise<{ sealed: Buffer; header: SealedHeader }> {
  const parts: Buffer[] = [];
  const header = await sealStream(bufferSource(plaintext), (b) => void parts.push(Buffer.from(b)), opts);
  return { sealed: Buffer.concat(parts), header };
}

/** Seals a file to `outPath` (created, never overwritten). Returns the header and the sealed file's SHA-256. */
export async function sealFile(inPath: string, outPath: string, opts: SealOptions): Promise<{ header: SealedHeader; sealedSha256: string }> {
  const input = await open(inPath, "r").catch((cause: unknown) => {
    throw new SealError(SealedFileCode.SEALED_IO, `cannot read ${inPath}`, { cause });
  });
  try {
    const output = await open(outPath, "wx", 0o644).catch((cause: unknown) => {
      throw new SealError(SealedFileCode.SEALED_IO, `cannot create ${outPath} (it must not exist yet)`, { cause });
    });
    try {
      const src = await fileSource(input);
      const h = createHash("sha256");
      let at = 0;
      const header = await sealStream(src, async (b) => {
        h.update(b);
        let done = 0;
        while (done < b.length) {
          const { bytesWritten } = await output.write(b, done, b.length - done, at);
          done += bytesWritten;
          at += bytesWritten;
        }
      }, opts);
      await output.sync();
      return { header, sealedSha256: h.digest("hex") };
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}
