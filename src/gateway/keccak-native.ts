/**
 * Keccak-256 for the node's hot-path EIP-191 digest (one per signed completion): the
 * `keccak` package's prebuilt N-API addon (the Keccak team's XKCP code), its sponge used
 * directly (the package's own entry would fall back to pure JS silently and builds a
 * stream per hash); @noble/hashes where no prebuilt loads (or with CLOISTER_KECCAK=js).
 * ~3 µs against ~15 µs for a completion's signed text here; the same bytes either way
 * (./keccak-native.contract.test.ts).
 * OpenSSL 3.0 (Node 20) has SHA3-256 but not Keccak-256, whose padding differs.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { personalMessage } from "../seal/signing.js";

/** The addon's sponge (what `keccak/bindings` wraps in a stream.Transform per hash; the package ships no types). */
interface KeccakState {
  initialize(rate: number, capacity: number): void;
  absorb(data: Buffer): void;
  squeeze(length: number): Buffer;
}

function isStateClass(m: unknown): m is new () => KeccakState {
  return typeof m === "function" && typeof (m as { prototype?: { absorb?: unknown } }).prototype?.absorb === "function";
}

/** Its absorb() takes Buffers only: a plain Uint8Array is viewed, not copied. */
const asBuffer = (d: Uint8Array): Buffer => (Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength));

// Keccak-256: rate 1088 bits, capacity 512, the original padding (no SHA-3 domain suffix).
const RATE = 1088;
const CAPACITY = 512;

function loadNative(): ((data: Uint8Array) => Uint8Array) | null {
  if (process.env["CLOISTER_KECCAK"] === "js") return null;
  try {
    // The same addon `keccak/bindings` loads, found the way that entry finds it.
    const pkg = createRequire(import.meta.url).resolve("keccak/package.json");
    const State: unknown = createRequire(pkg)("node-gyp-build")(dirname(pkg));
    if (!isStateClass(State)) return null;
    // One sponge, reset after every digest: hashing is synchronous and a stream per hash
    // (the package's API) cost more than the permutation.
    const state = new State();
    state.initialize(RATE, CAPACITY);
    return (data) => {
      try {
        state.absorb(asBuffer(data));
        return state.squeeze(32);
      } finally {
        state.initialize(RATE, CAPACITY);
      }
    };
  } catch {
    // No prebuilt addon for this platform: noble serves.
    return null;
  }
}

const native = loadNative();

export const keccakImpl: "native" | "js" = native ? "native" : "js";

export const keccak256: (data: Uint8Array) => Uint8Array = native ?? ((data) => keccak_256(data));

/**
 * keccak256 of the EIP-191 personal message, as ../seal/signing.ts's personalMessageHash.
 * The message is built as one Buffer from one string (the browser-safe personalMessage
 * encodes and joins three arrays, and the addon would then take a view of them): ~8 -> ~3
 * µs per signature here, the same bytes (./keccak-native.contract.test.ts).
 */
export function personalMessageDigest(text: string): Uint8Array {
  return native ? native(Buffer.from(`\x19Ethereum Signed Message:\n${Buffer.byteLength(text, "utf8")}${text}`, "utf8")) : keccak_256(personalMessage(text));
}
