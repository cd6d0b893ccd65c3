import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { SealError } from "../../errors.js";
import { SealedFileCode } from "./codes.js";
import { HEADER_MAC_LENGTH, TAG_LENGTH } from "./format.js";
import { inspectSealedFile, openBytes, openSealedFile, readSealedHeader } from "./open.js";
import { bufferSource } from "./io.js";
import { sealBytes, sealFile } from "./seal.js";

const CHUNK = 64;
const key = randomBytes(32);
const plain = randomBytes(CHUNK * 4 + 10); // 5 chunks, the last one short

async function sealed(): Promise<{ bytes: Buffer; body: number }> {
  const { sealed: bytes } = await sealBytes(plain, { dataKey: key, modelId: "m", chunkSize: CHUNK });
  const { headerLength } = await readSealedHeader(bufferSource(bytes));
  return { bytes, body: headerLength + HEADER_MAC_LENGTH };
}
const full = CHUNK + TAG_LENGTH;

async function codeOf(bytes: Uint8Array, k: Uint8Array = key): Promise<string> {
  try {
    await openBytes(bytes, k);
  } catch (e) {
    if (e instanceof SealError) return e.code;
    throw e;
  }
  return "OPENED";
}

describe("sealed model file", () => {
  it("round-trips any plaintext at any chunk size (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 16, max: 700 }), async (p, chunkSize) => {
        const { sealed: s, header } = await sealBytes(p, { dataKey: key, modelId: "prop", chunkSize });
        const { plaintext } = await openBytes(s, key);
        expect(Buffer.compare(plaintext, Buffer.from(p))).toBe(0);
        expect(header.plaintext_size).toBe(p.length);
      }),
      { numRuns: 60 },
    );
  });

  it("refuses a flipped bit in a chunk as SEALED_CHUNK_CORRUPT", async () => {
    const { bytes, body } = await sealed();
    bytes[body + full + 5] = (bytes[body + full + 5] ?? 0) ^ 1;
    expect(await codeOf(bytes)).toBe(SealedFileCode.SEALED_CHUNK_CORRUPT);
  });

  it("refuses a dropped middle chunk as SEALED_CHUNK_DROPPED", async () => {
    const { bytes, body } = await sealed();
    const dropped = Buffer.concat([bytes.subarray(0, body + full), bytes.subarray(body + 2 * full)]);
    expect(await codeOf(dropped)).toBe(SealedFileCode.SEALED_CHUNK_DROPPED);
  });

  it("refuses a dropped second-to-last chunk as SEALED_CHUNK_DROPPED", async () => {
    const { bytes, body } = await sealed();
    const dropped = Buffer.concat([bytes.subarray(0, body + 3 * full), bytes.subarray(body + 4 * full)]);
    expect(await codeOf(dropped)).toBe(SealedFileCode.SEALED_CHUNK_DROPPED);
  });

  it("refuses two swapped chunks as SEALED_CHUNK_REORDERED", async () => {
    const { bytes, body } = await sealed();
    const a = Buffer.from(bytes.subarray(body + full, body + 2 * full));
    bytes.copy(bytes, body + full, body + 2 * full, body + 3 * full);
    a.copy(bytes, body + 2 * full);
    expect(await codeOf(bytes)).toBe(SealedFileCode.SEALED_CHUNK_REORDERED);
  });

  it("refuses a file cut at a chunk boundary or inside a chunk as SEALED_TRUNCATED", async () => {
    const { bytes, body } = await sealed();
    expect(await codeOf(bytes.subarray(0, body + 4 * full))).toBe(SealedFileCode.SEALED_TRUNCATED);
    expect(await codeOf(bytes.subarray(0, body + 2 * full + 7))).toBe(SealedFileCode.SEALED_TRUNCATED);
    expect(await codeOf(bytes.subarray(0, 20))).toBe(SealedFileCode.SEALED_TRUNCATED);
  });

  it("refuses an appended chunk as SEALED_TRAILING_DATA", async () => {
    const { bytes, body } = await sealed();
    expect(await codeOf(Buffer.concat([bytes, bytes.subarray(body + full, body + 2 * full)]))).toBe(SealedFileCode.SEALED_TRAILING_DATA);
  });

  it("refuses an edited header as SEALED_HEADER_INVALID and another key as SEALED_WRONG_KEY", async () => {
    const { bytes } = await sealed();
    const edited = Buffer.from(bytes.toString("latin1").replace('"model_id":"m"', '"model_id":"x"'), "latin1");
    expect(await codeOf(edited)).toBe(SealedFileCode.SEALED_HEADER_INVALID);
    expect(await codeOf(bytes, randomBytes(32))).toBe(SealedFileCode.SEALED_WRONG_KEY);
  });

  it("refuses a chunk moved from another file sealed with the same key (header bound as AAD)", async () => {
    const a = await sealed();
    const b = await sealed();
    a.bytes.copy(b.bytes, b.body + full, a.body + full, a.body + 2 * full);
    expect(await codeOf(b.bytes)).toBe(SealedFileCode.SEALED_CHUNK_CORRUPT);
  });

  it("refuses a file that is not sealed as SEALED_MALFORMED", async () => {
    expect(await codeOf(Buffer.from("GGUF\x03\x00\x00\x00 definitely not sealed"))).toBe(SealedFileCode.SEALED_MALFORMED);
  });

  describe("on disk", () => {
    const dir = mkdtempSync(join(tmpdir(), "cloister-sealed-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("seals and opens a file chunk by chunk, and inspect reads the header without the key", async () => {
      const input = join(dir, "in.bin");
      const data = randomBytes(3 * 1024 * 1024 + 17);
      writeFileSync(input, data);
      const { header, sealedSha256 } = await sealFile(input, join(dir, "out.sealed"), { dataKey: key, modelId: "disk", chunkSize: 1024 * 1024 });
      expect(header.plaintext_size).toBe(data.length);
      const seen: Buffer[] = [];
      await openSealedFile(join(dir, "out.sealed"), key, (p) => void seen.push(Buffer.from(p)));
      expect(Buffer.concat(seen).equals(data)).toBe(true);
      const info = await inspectSealedFile(join(dir, "out.sealed"));
      expect(info.header.model_id).toBe("disk");
      expect(info.fileLength).toBe(info.expectedLength);
      expect(sealedSha256).toMatch(/^[0-9a-f]{64}$/);
      // The sealed file holds none of the plaintext.
      expect(readFileSync(join(dir, "out.sealed")).includes(data.subarray(1000, 1064))).toBe(false);
      await expect(sealFile(input, join(dir, "out.sealed"), { dataKey: key, modelId: "disk" })).rejects.toMatchObject({ code: SealedFileCode.SEALED_IO });
    });
  });
});
