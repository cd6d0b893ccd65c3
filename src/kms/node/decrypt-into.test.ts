import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WORKER_MIN_BYTES } from "../file/hasher.js";
import { SealedFileCode } from "../file/codes.js";
import { sealFile } from "../file/seal.js";
import { createMemFile } from "./memfd.js";
import { decryptInto } from "./decrypt-into.js";

const linux = process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64");

describe.skipIf(!linux)(`decrypting a sealed model into a memfd${linux ? "" : " (skipped: needs Linux x64/arm64)"}`, () => {
  const dir = mkdtempSync(join(tmpdir(), "cloister-decrypt-into-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Large enough that the plaintext hash is read back from the memfd by the worker.
  const plain = randomBytes(WORKER_MIN_BYTES + 3 * 65_536 + 11);
  const key = randomBytes(32);

  it("seals a large file (both hashes in the worker) and fills the memfd with its plaintext, the hash checked from the memfd", async () => {
    writeFileSync(join(dir, "m.bin"), plain);
    const { sealedSha256 } = await sealFile(join(dir, "m.bin"), join(dir, "m.sealed"), { dataKey: key, modelId: "m", chunkSize: 65_536 });
    // Hashed by the worker through the descriptor, beside the fsync.
    expect(sealedSha256).toBe(createHash("sha256").update(readFileSync(join(dir, "m.sealed"))).digest("hex"));
    const mem = await createMemFile("cloister-test");
    try {
      const header = await decryptInto(join(dir, "m.sealed"), key, mem);
      expect(header.plaintext_sha256).toBe(createHash("sha256").update(plain).digest("hex"));
      expect(readFileSync(mem.path).equals(plain)).toBe(true);
    } finally {
      mem.close();
    }
  });

  it("refuses another data key before anything is written (SEALED_WRONG_KEY)", async () => {
    const mem = await createMemFile("cloister-test");
    try {
      await expect(decryptInto(join(dir, "m.sealed"), randomBytes(32), mem)).rejects.toMatchObject({ code: SealedFileCode.SEALED_WRONG_KEY });
      expect(readFileSync(mem.path).length).toBe(0);
    } finally {
      mem.close();
    }
  });
});
