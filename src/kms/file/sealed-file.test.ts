import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { open as openFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SealError } from "../../errors.js";
import { SealedFileCode } from "./codes.js";
import { HEADER_MAC_LENGTH, SEALED_FORMAT_V1, SEALED_FORMAT_V2, TAG_LENGTH } from "./format.js";
import { liveHashWorkers, rangeHasher, workerHasher } from "./hasher.js";
import { inspectSealedFile, openBytes, openSealedFile, readSealedHeader } from "./open.js";
import { bufferSource, fileSource } from "./io.js";
import { sealBytes, sealFile, sealStream } from "./seal.js";

const CHUNK = 64;
const key = randomBytes(32);
const plain = randomBytes(CHUNK * 4 + 10); // 5 chunks, the last one short

let version: 1 | 2 = 2;
async function sealed(): Promise<{ bytes: Buffer; body: number }> {
  const { sealed: bytes } = await sealBytes(plain, { dataKey: key, modelId: "m", chunkSize: CHUNK, version });
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

describe.each([2, 1] as const)("sealed model file v%i", (v) => {
  beforeAll(() => void (version = v));

  it("round-trips any plaintext at any chunk size (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 16, max: 700 }), async (p, chunkSize) => {
        const { sealed: s, header } = await sealBytes(p, { dataKey: key, modelId: "prop", chunkSize, version: v });
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

  it("refuses an edited plaintext hash in the header as SEALED_HEADER_INVALID (the MAC covers it)", async () => {
    const { bytes } = await sealed();
    const text = bytes.toString("latin1");
    const at = text.indexOf('"plaintext_sha256":"') + '"plaintext_sha256":"'.length;
    bytes[at] = bytes[at] === 0x30 ? 0x31 : 0x30;
    expect(await codeOf(bytes)).toBe(SealedFileCode.SEALED_HEADER_INVALID);
  });
});

describe("sealed model file versions", () => {
  it("writes v2 by default and still opens v1 files", async () => {
    const v2 = await sealBytes(plain, { dataKey: key, modelId: "m", chunkSize: CHUNK });
    expect(v2.header.format).toBe(SEALED_FORMAT_V2);
    expect(v2.sealed.subarray(0, 8).toString("latin1")).toBe("CLSEAL02");
    const v1 = await sealBytes(plain, { dataKey: key, modelId: "m", chunkSize: CHUNK, version: 1 });
    expect(v1.header.format).toBe(SEALED_FORMAT_V1);
    expect(v1.sealed.subarray(0, 8).toString("latin1")).toBe("CLSEAL01");
    expect((await openBytes(v1.sealed, key)).plaintext.equals(plain)).toBe(true);
    // Both name the same plaintext hash; v2's, computed while sealing, is the one v1 hashed first.
    expect(v2.header.plaintext_sha256).toBe(v1.header.plaintext_sha256);
  });

  it("opens a v1 file written by the v1 code (fixture: 150 bytes, 64-byte chunks, data key 32 x 0x07)", async () => {
    const v1File = Buffer.from(
      "Q0xTRUFMMDEAAAFFeyJmb3JtYXQiOiJjbG9pc3Rlci9zZWFsZWQtbW9kZWwvdjEiLCJjaXBoZXIiOiJBRVMtMjU2LUdDTSIs" +
      "Im1vZGVsX2lkIjoidjEtZml4dHVyZSIsImNodW5rX3NpemUiOjY0LCJwbGFpbnRleHRfc2l6ZSI6MTUwLCJwbGFpbnRleHRf" +
      "c2hhMjU2IjoiMGJmMmExMzA2NDRmZGIyOTFkYmRjMDE3OTk3ZWY4NDhmYTQ0Yzg1MzI3YmNmYzhjODE2OTYyZDQ0NjNiMWUy" +
      "YSIsInNhbHQiOiIyNGI1MDdmNmUyODY3ODdlNTMzYzA4YWY5M2ZmNGZlOGFkMzU2ZjlkNzQ1YTM4MDQzODg2ZGQwNTMyNjIx" +
      "OWYwIiwia2V5X2lkIjoiYjkxMmI0NDUwMzVjZTM4OTcxMTA2NmQ3MmUxM2UzNDEifWOoPZ++xk6WFf9g7wAb/gS0rQd01GpS" +
      "mY1QUv84GKZ0pEiVqQ8HxlgUY8CC8rufZxeOSiK0atAdHV4HR8sDtJnrO3oRd0VLTQWtPVzGCw1a2q17V+p8D3J4ma+Qhf0d" +
      "G1NEGF1xguUIMHTpB1LFa4/AFcIEjCxJm8krpnsCnFsht8YuGqufFHUdrzPfnRZx0Hqq+uPbPqLHH3jnoSO66AUa9qXrUJFt" +
      "wzlscd8DcxE0rkSo9dDRLXmIobWOn+8ywrnCmConTxTERBZunWL7JG92/FTgWb7w11Y2o3e0N9/TG87XkBya",
      "base64",
    );
    const want = Buffer.from(Array.from({ length: 150 }, (_, i) => (i * 37) & 255));
    const { plaintext, header } = await openBytes(v1File, Buffer.alloc(32, 7));
    expect(header.format).toBe(SEALED_FORMAT_V1);
    expect(plaintext.equals(want)).toBe(true);
  });

  it("refuses a v2 file relabelled v1 (magic) as SEALED_MALFORMED and an unknown version as SEALED_VERSION_UNSUPPORTED", async () => {
    const { sealed: bytes } = await sealBytes(plain, { dataKey: key, modelId: "m", chunkSize: CHUNK });
    const relabelled = Buffer.from(bytes);
    relabelled.write("CLSEAL01", 0, "latin1");
    expect(await codeOf(relabelled)).toBe(SealedFileCode.SEALED_MALFORMED);
    relabelled.write("CLSEAL03", 0, "latin1");
    expect(await codeOf(relabelled)).toBe(SealedFileCode.SEALED_VERSION_UNSUPPORTED);
  });

  it("refuses v2 chunks spliced under a v1 header of the same key and salt-free fields (their aads differ)", async () => {
    // Same key, same chunk layout: a v1 file's header with a v2 file's chunks.
    const v1 = await sealBytes(plain, { dataKey: key, modelId: "m", chunkSize: CHUNK, version: 1 });
    const v2 = await sealBytes(plain, { dataKey: key, modelId: "m", chunkSize: CHUNK });
    const b1 = (await readSealedHeader(bufferSource(v1.sealed))).headerLength + HEADER_MAC_LENGTH;
    const b2 = (await readSealedHeader(bufferSource(v2.sealed))).headerLength + HEADER_MAC_LENGTH;
    expect(await codeOf(Buffer.concat([v1.sealed.subarray(0, b1), v2.sealed.subarray(b2)]))).toBe(SealedFileCode.SEALED_CHUNK_CORRUPT);
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

/** A worker that starts like the real one and throws on the first chunk; one that exits. */
const THROWS = `require("node:worker_threads").parentPort.on("message", (m) => { if (m.t === "chunks") throw new Error("boom"); });`;
const EXITS = `require("node:worker_threads").parentPort.on("message", (m) => { if (m.t === "chunks") process.exit(3); });`;

describe("hashing the plaintext in a worker thread", () => {
  const dir = mkdtempSync(join(tmpdir(), "cloister-sealed-worker-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const big = randomBytes(6 * 1024 + 5);

  it("seals and opens with the hash in a worker, giving the same plaintext hash as hashing inline", async () => {
    const inWorker = await sealBytes(big, { dataKey: key, modelId: "w", chunkSize: 1024, hashInWorker: true });
    const inline = await sealBytes(big, { dataKey: key, modelId: "w", chunkSize: 1024, hashInWorker: false });
    expect(inWorker.header.plaintext_sha256).toBe(createHash("sha256").update(big).digest("hex"));
    expect(inWorker.header.plaintext_sha256).toBe(inline.header.plaintext_sha256);
    expect((await openBytes(inWorker.sealed, key, { hashInWorker: true })).plaintext.equals(big)).toBe(true);
    expect((await openBytes(inline.sealed, key, { hashInWorker: true })).plaintext.equals(big)).toBe(true);
  });

  it("still catches a plaintext whose hash is not the header's when the worker hashes (SEALED_PLAINTEXT_HASH_MISMATCH)", async () => {
    // A (buggy or malicious) sealer that names the wrong hash: only the hash check can tell.
    const { sealed: s } = await sealBytes(big, { dataKey: key, modelId: "w", chunkSize: 1024, plaintextSha256: "ab".repeat(32) });
    await expect(openBytes(s, key, { hashInWorker: true })).rejects.toMatchObject({ code: SealedFileCode.SEALED_PLAINTEXT_HASH_MISMATCH });
  });

  it.each([
    ["throws", THROWS],
    ["exits", EXITS],
  ])("surfaces a worker that %s as SEALED_HASH_WORKER_FAILED, ends it, and leaves no sealed output on disk", async (_, source) => {
    const before = liveHashWorkers();
    const input = join(dir, `in-${_}.bin`);
    const out = join(dir, `out-${_}.sealed`);
    writeFileSync(input, big);
    const err = await sealFile(input, out, { dataKey: key, modelId: "w", chunkSize: 1024, hasher: (_size, cs) => workerHasher(cs, source) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SealError);
    expect((err as SealError).code).toBe(SealedFileCode.SEALED_HASH_WORKER_FAILED);
    expect(existsSync(out)).toBe(false);
    await vi.waitFor(() => expect(liveHashWorkers()).toBe(before));
  });

  it("surfaces a failing worker while opening as SEALED_HASH_WORKER_FAILED and ends it", async () => {
    const { sealed: s } = await sealBytes(big, { dataKey: key, modelId: "w", chunkSize: 1024 });
    const before = liveHashWorkers();
    await expect(openBytes(s, key, { hasher: (_size, cs) => workerHasher(cs, THROWS) })).rejects.toMatchObject({ code: SealedFileCode.SEALED_HASH_WORKER_FAILED });
    await vi.waitFor(() => expect(liveHashWorkers()).toBe(before));
  });

  it("ends an abandoned worker when opening fails on a chunk, and keeps at most one idle worker", async () => {
    const { sealed: s } = await sealBytes(big, { dataKey: key, modelId: "w", chunkSize: 1024 });
    const body = (await readSealedHeader(bufferSource(s))).headerLength + HEADER_MAC_LENGTH;
    s[body + 3 * (1024 + TAG_LENGTH) + 1] = (s[body + 3 * (1024 + TAG_LENGTH) + 1] ?? 0) ^ 1;
    await expect(openBytes(s, key, { hashInWorker: true })).rejects.toMatchObject({ code: SealedFileCode.SEALED_CHUNK_CORRUPT });
    await Promise.all([0, 1, 2].map(() => sealBytes(big, { dataKey: key, modelId: "w", chunkSize: 1024, hashInWorker: true })));
    await vi.waitFor(() => expect(liveHashWorkers()).toBeLessThanOrEqual(1));
  });

  describe("with the worker reading the bytes for itself (a file descriptor, shared memory)", () => {
    const sha = createHash("sha256").update(big).digest("hex");
    /** Opens `sealedPath` into a fresh file whose descriptor the hash worker reads back; `mangle` may alter what the sink writes. */
    async function openInto(sealedPath: string, mangle: (p: Buffer, i: number) => Buffer | null = (p) => p): Promise<Buffer> {
      const target = join(dir, `plain-${Math.random().toString(36).slice(2)}`);
      const fd = openSync(target, "w+");
      try {
        await openSealedFile(sealedPath, key, (p, i) => {
          const w = mangle(p, i);
          if (w) writeSync(fd, w, 0, w.length, i * 1024);
        }, { plaintextFd: { fd }, hashInWorker: true });
        return readFileSync(target);
      } finally {
        closeSync(fd);
      }
    }

    it("seals a file hashed from its own descriptor and opens it hashed from the written plaintext", async () => {
      const input = join(dir, "ranged-in.bin");
      writeFileSync(input, big);
      const { header } = await sealFile(input, join(dir, "ranged.sealed"), { dataKey: key, modelId: "w", chunkSize: 1024, hashInWorker: true });
      expect(header.plaintext_sha256).toBe(sha);
      expect((await openInto(join(dir, "ranged.sealed"))).equals(big)).toBe(true);
    });

    it("hashes a plaintext in shared memory in place, to the same digest", async () => {
      const shared = Buffer.from(new SharedArrayBuffer(big.length + 7), 7);
      big.copy(shared);
      expect(bufferSource(shared).hashSource).toMatchObject({ offset: 7 });
      const { header, sealed: s } = await sealBytes(shared, { dataKey: key, modelId: "w", chunkSize: 1024, hashInWorker: true });
      expect(header.plaintext_sha256).toBe(sha);
      expect((await openBytes(s, key)).plaintext.equals(big)).toBe(true);
    });

    it("checks the hash against the bytes the sink wrote, not a copy: one altered byte is SEALED_PLAINTEXT_HASH_MISMATCH", async () => {
      const input = join(dir, "mangle-in.bin");
      writeFileSync(input, big);
      await sealFile(input, join(dir, "mangle.sealed"), { dataKey: key, modelId: "w", chunkSize: 1024 });
      const flipped = (p: Buffer, i: number): Buffer => {
        const c = Buffer.from(p);
        if (i === 2) c[10] = (c[10] ?? 0) ^ 1;
        return c;
      };
      await expect(openInto(join(dir, "mangle.sealed"), flipped)).rejects.toMatchObject({ code: SealedFileCode.SEALED_PLAINTEXT_HASH_MISMATCH });
    });

    it("fails as SEALED_HASH_WORKER_FAILED when the descriptor lacks the bytes (a sink that wrote nothing), and ends the worker", async () => {
      const input = join(dir, "empty-in.bin");
      writeFileSync(input, big);
      await sealFile(input, join(dir, "empty.sealed"), { dataKey: key, modelId: "w", chunkSize: 1024 });
      const before = liveHashWorkers();
      await expect(openInto(join(dir, "empty.sealed"), () => null)).rejects.toMatchObject({ code: SealedFileCode.SEALED_HASH_WORKER_FAILED });
      await vi.waitFor(() => expect(liveHashWorkers()).toBeLessThanOrEqual(before));
    });

    it("refuses an input that changed while it was sealed (SEALED_IO), since the worker read it separately", async () => {
      const input = join(dir, "changing-in.bin");
      writeFileSync(input, big);
      await sleep(30); // past the file system's timestamp granularity, so the change shows in mtime
      const fh = await openFile(input, "r");
      try {
        let first = true;
        const write = async (): Promise<void> => {
          if (!first) return;
          first = false;
          const w = await openFile(input, "r+");
          await w.write(Buffer.alloc(16, 0x55), 0, 16, 2048);
          await w.close();
        };
        await expect(sealStream(await fileSource(fh), write, { dataKey: key, modelId: "w", chunkSize: 1024, hashInWorker: true })).rejects.toMatchObject({ code: SealedFileCode.SEALED_IO });
      } finally {
        await fh.close();
      }
    });

    it("refuses ranges out of order, which would hash other bytes than the file's", async () => {
      const h = rangeHasher({ shared: new SharedArrayBuffer(64) });
      try {
        h.add(0, 16);
        expect(() => h.add(32, 48)).toThrow(RangeError);
      } finally {
        await h.close();
      }
    });
  });
});
