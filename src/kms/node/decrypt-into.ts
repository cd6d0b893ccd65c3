/**
 * The node's decryption of a sealed model into its in-memory file (memfd.ts), on its own so
 * that it loads only the sealed-file code (the bench times it in a lean process).
 */
import type { SealedHeader } from "../file/format.js";
import { openSealedFile } from "../file/open.js";
import type { MemFile } from "./memfd.js";

/**
 * Decrypts a sealed file into `memFile`, zeroing each plaintext chunk once written. The hash
 * worker reads the plaintext back from the memfd, so what it checks is what llama.cpp loads.
 * openSealedFile checks the header MAC, every chunk, the final flag, the length and the
 * plaintext SHA-256 before it returns; only then may the file be handed to llama.cpp.
 */
export async function decryptInto(sealedPath: string, dataKey: Uint8Array, memFile: MemFile): Promise<SealedHeader> {
  let at = 0;
  return openSealedFile(
    sealedPath,
    dataKey,
    (plain) => {
      memFile.write(plain, at);
      at += plain.length;
      plain.fill(0);
    },
    { plaintextFd: { fd: memFile.fd } },
  );
}
