/**
 * Keccak-256 for the node's hot-path EIP-191 digest (one per signed completion): the
 * `keccak` package's prebuilt N-API addon (the Keccak team's XKCP code), through its
 * `bindings` entry so its pure-JS fallback never runs; @noble/hashes where no prebuilt
 * loads (or with CLOISTER_KECCAK=js). ~4 µs against ~13 µs for a completion's signed
 * text here; the same bytes either way (./keccak-native.contract.test.ts).
 * OpenSSL 3.0 (Node 20) has SHA3-256 but not Keccak-256, whose padding differs.
 */
import { createRequire } from "node:module";
import { keccak_256 } from "@noble/hashes/sha3.js";

/** The part of `keccak/bindings` we use (the package ships no types). */
type CreateHash = (algorithm: "keccak256") => { update(data: Uint8Array): { digest(): Buffer } };

function loadNative(): CreateHash | null {
  if (process.env["CLOISTER_KECCAK"] === "js") return null;
  try {
    const m: unknown = createRequire(import.meta.url)("keccak/bindings");
    return typeof m === "function" ? (m as CreateHash) : null;
  } catch {
    // No prebuilt addon for this platform: noble serves.
    return null;
  }
}

const native = loadNative();

export const keccakImpl: "native" | "js" = native ? "native" : "js";

/** Its update() takes Buffers only: a plain Uint8Array is viewed, not copied. */
const asBuffer = (d: Uint8Array): Buffer => (Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength));

export const keccak256: (data: Uint8Array) => Uint8Array = native ? (data) => native("keccak256").update(asBuffer(data)).digest() : (data) => keccak_256(data);

/** keccak256("\x19Ethereum Signed Message:\n" + byte length + text), as ../seal/signing.ts's personalMessageHash. */
export function personalMessageDigest(text: string): Uint8Array {
  const body = Buffer.from(text, "utf8");
  const prefix = Buffer.from(`\x19Ethereum Signed Message:\n${body.length}`, "latin1");
  return keccak256(Buffer.concat([prefix, body], prefix.length + body.length));
}
