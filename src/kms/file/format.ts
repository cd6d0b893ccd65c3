/**
 * Cloister sealed-model file, v2 (written) and v1 (still read); docs/protocol.md, "Sealed models":
 *
 *   magic "CLSEAL0v" (8) ‖ u32be header_len ‖ header (UTF-8 JSON) ‖ header_mac (32) ‖ chunk_0 ‖ … ‖ chunk_{n-1}
 *   chunk_i = AES-256-GCM(file_key, nonce_i, aad_i, plaintext_i) ‖ tag (16)
 *
 * Every chunk but the last holds exactly chunk_size plaintext bytes; the last holds the
 * rest (0 bytes only for an empty file, which still has one chunk). The header is parsed
 * here and trusted only after its MAC verifies (open.ts). The two versions differ only in
 * what a chunk's aad binds (chunkBinding below): v1 the whole encoded header, v2 every
 * header field but plaintext_sha256, so v2 chunks can be written while the plaintext is
 * still being hashed and the header goes last into its fixed-size slot.
 */
import { z } from "zod";
import { SealError } from "../../errors.js";
import { SealedFileCode } from "./codes.js";

export const SEALED_MAGIC_V1 = Buffer.from("CLSEAL01", "ascii");
export const SEALED_MAGIC_V2 = Buffer.from("CLSEAL02", "ascii");
export const SEALED_FORMAT_V1 = "cloister/sealed-model/v1" as const;
export const SEALED_FORMAT_V2 = "cloister/sealed-model/v2" as const;
/** What sealing writes. */
export const SEALED_FORMAT = SEALED_FORMAT_V2;
export const SEALED_MAGIC = SEALED_MAGIC_V2;
export type SealedFormat = typeof SEALED_FORMAT_V1 | typeof SEALED_FORMAT_V2;
const MAGIC_OF: Record<SealedFormat, Buffer> = { [SEALED_FORMAT_V1]: SEALED_MAGIC_V1, [SEALED_FORMAT_V2]: SEALED_MAGIC_V2 };
/** The hash's slot in a header before the plaintext is hashed: same length, so the header's length is known up front. */
export const PENDING_SHA256 = "0".repeat(64);
export const PREFIX_LENGTH = 12;
export const HEADER_MAC_LENGTH = 32;
export const TAG_LENGTH = 16;
export const MAX_HEADER_LENGTH = 64 * 1024;
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
export const MIN_CHUNK_SIZE = 16;
export const MAX_CHUNK_SIZE = 64 * 1024 * 1024;

const hex = (len: number): z.ZodString => z.string().regex(new RegExp(`^[0-9a-f]{${len}}$`), `${len / 2}-byte lower-case hex`);

export const sealedHeaderSchema = z
  .object({
    format: z.enum([SEALED_FORMAT_V1, SEALED_FORMAT_V2]),
    cipher: z.literal("AES-256-GCM"),
    model_id: z.string().min(1).max(256),
    chunk_size: z.number().int().min(MIN_CHUNK_SIZE).max(MAX_CHUNK_SIZE),
    plaintext_size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    plaintext_sha256: hex(64),
    /** Random per file: the chunk key and header MAC key derive from the data key with it. */
    salt: hex(64),
    /** HKDF of the data key alone: names the key (same for every file sealed with it), reveals nothing of it. */
    key_id: hex(32),
  })
  .strict();

export type SealedHeader = z.output<typeof sealedHeaderSchema>;

export function chunkCount(h: Pick<SealedHeader, "plaintext_size" | "chunk_size">): number {
  return h.plaintext_size === 0 ? 1 : Math.ceil(h.plaintext_size / h.chunk_size);
}

/** Plaintext length of chunk i. */
export function chunkPlainLength(h: Pick<SealedHeader, "plaintext_size" | "chunk_size">, i: number): number {
  const n = chunkCount(h);
  return i < n - 1 ? h.chunk_size : h.plaintext_size - (n - 1) * h.chunk_size;
}

function framed(format: SealedFormat, fields: Record<string, string | number>): Buffer {
  const json = Buffer.from(JSON.stringify(fields), "utf8");
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  return Buffer.concat([MAGIC_OF[format], len, json]);
}

/** The header's encoding as it goes on disk: magic ‖ u32be length ‖ JSON (fixed key order). */
export function encodeHeader(h: SealedHeader): Buffer {
  return framed(h.format, headerFields(h, true));
}

/** The header's fields in their fixed order, with or without plaintext_sha256 (in its place). */
function headerFields(h: SealedHeader, withPlaintextHash: boolean): Record<string, string | number> {
  return {
    format: h.format,
    cipher: h.cipher,
    model_id: h.model_id,
    chunk_size: h.chunk_size,
    plaintext_size: h.plaintext_size,
    ...(withPlaintextHash ? { plaintext_sha256: h.plaintext_sha256 } : {}),
    salt: h.salt,
    key_id: h.key_id,
  };
}

/**
 * What every chunk's aad names about its file (hashed with SHA-256 in keys.ts):
 * v1: the encoded header itself, exactly the bytes on disk (`encoded`). v2: the same framing over every field known before the
 * plaintext is hashed (format, cipher, model id, chunk size, plaintext size, salt, key id),
 * i.e. the header without plaintext_sha256. The header MAC, checked before any chunk is
 * opened, still covers the whole header, plaintext_sha256 included.
 *
 * Why v2 is no weaker: the chunk key is per file (HKDF with the file's random salt), the
 * index and final flag in nonce and aad still refuse dropped, reordered, duplicated and
 * truncated chunks, and the binding still names every field that decides which bytes a
 * chunk is; magic and format are in it, so v1 and v2 chunks never open under each other's
 * header. The plaintext hash was never what authenticated the chunks (their tags do); what
 * stops anyone without the data key from changing it is the header MAC, in v1 as in v2.
 */
export function chunkBindingInput(h: SealedHeader, encoded: Uint8Array): Uint8Array {
  return h.format === SEALED_FORMAT_V1 ? encoded : framed(h.format, headerFields(h, false));
}

/** The total length of a well-formed sealed file with this header. */
export function sealedFileLength(h: Pick<SealedHeader, "plaintext_size" | "chunk_size">, headerBytes: number): number {
  return headerBytes + HEADER_MAC_LENGTH + h.plaintext_size + chunkCount(h) * TAG_LENGTH;
}

/** Parses magic, length and JSON from the first bytes of a file; returns the header and its encoded length. */
export function parseHeaderPrefix(prefix: Buffer): { header: SealedHeader; headerLength: number } | { needed: number } {
  if (prefix.length < PREFIX_LENGTH) return { needed: PREFIX_LENGTH };
  const magic = prefix.subarray(0, 8);
  const format = magic.equals(SEALED_MAGIC_V2) ? SEALED_FORMAT_V2 : magic.equals(SEALED_MAGIC_V1) ? SEALED_FORMAT_V1 : undefined;
  if (format === undefined) {
    if (prefix.subarray(0, 6).equals(SEALED_MAGIC.subarray(0, 6))) throw new SealError(SealedFileCode.SEALED_VERSION_UNSUPPORTED, `sealed file version ${prefix.subarray(6, 8).toString("latin1")} is not supported (this reads 01 and 02)`);
    throw new SealError(SealedFileCode.SEALED_MALFORMED, "not a Cloister sealed model (bad magic)");
  }
  const len = prefix.readUInt32BE(8);
  if (len === 0 || len > MAX_HEADER_LENGTH) throw new SealError(SealedFileCode.SEALED_MALFORMED, `sealed header length ${len} is out of range`);
  if (prefix.length < PREFIX_LENGTH + len) return { needed: PREFIX_LENGTH + len };
  let json: unknown;
  try {
    json = JSON.parse(prefix.subarray(PREFIX_LENGTH, PREFIX_LENGTH + len).toString("utf8"));
  } catch (cause) {
    throw new SealError(SealedFileCode.SEALED_MALFORMED, "the sealed header is not JSON", { cause });
  }
  const named = typeof json === "object" && json !== null ? (json as Record<string, unknown>)["format"] : undefined;
  if (typeof named === "string" && named !== SEALED_FORMAT_V1 && named !== SEALED_FORMAT_V2) throw new SealError(SealedFileCode.SEALED_VERSION_UNSUPPORTED, `sealed format ${named} is not supported`);
  // The magic and the header's format must agree: one cannot pass a v1 header off as v2 (their chunks bind different aads).
  if (named !== format) throw new SealError(SealedFileCode.SEALED_MALFORMED, `the sealed header's format ${String(named)} does not match its magic (${format})`);
  const r = sealedHeaderSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new SealError(SealedFileCode.SEALED_MALFORMED, `sealed header: ${i ? `${i.path.join(".")}: ${i.message}` : "invalid"}`);
  }
  return { header: r.data, headerLength: PREFIX_LENGTH + len };
}
