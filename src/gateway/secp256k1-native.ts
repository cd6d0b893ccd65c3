/**
 * libsecp256k1 for the node's hot-path ECDSA signature, fastest first:
 *
 *   - native: bitcoin-core's libsecp256k1 as a prebuilt N-API addon (the `secp256k1`
 *     package's `bindings` entry, which never falls back to its pure-JS code);
 *   - wasm: the same library compiled to WebAssembly (tiny-secp256k1), ~3x slower here.
 *
 * Both are RFC 6979 deterministic and low-s, so they give the same bytes
 * (./secp256k1-native.contract.test.ts); which one loaded changes speed only.
 */
import { createRequire } from "node:module";
import { isPrivate, signRecoverable } from "tiny-secp256k1";

export interface RecoverableSigner {
  readonly impl: "native" | "wasm";
  /** 64-byte r||s and the recovery id of a signature over a 32-byte digest. */
  sign(digest: Uint8Array, secretKey: Uint8Array): { signature: Uint8Array; recoveryId: number };
}

/** The part of `secp256k1/bindings` we use (the package ships no types for that entry). */
interface NativeBindings {
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number };
  privateKeyVerify(seckey: Uint8Array): boolean;
}

function isNativeBindings(m: unknown): m is NativeBindings {
  return typeof m === "object" && m !== null && "ecdsaSign" in m && typeof m.ecdsaSign === "function" && "privateKeyVerify" in m && typeof m.privateKeyVerify === "function";
}

function loadNative(): NativeBindings | null {
  if (process.env["CLOISTER_SECP256K1"] === "wasm") return null;
  try {
    const m: unknown = createRequire(import.meta.url)("secp256k1/bindings");
    return isNativeBindings(m) ? m : null;
  } catch {
    // No prebuilt addon for this platform (or it failed to load): the wasm build serves.
    return null;
  }
}

const wasm: RecoverableSigner = {
  impl: "wasm",
  sign: (digest, secretKey) => signRecoverable(digest, secretKey),
};

let chosen: RecoverableSigner | undefined;

export function recoverableSigner(): RecoverableSigner {
  if (chosen) return chosen;
  const native = loadNative();
  chosen = native
    ? {
        impl: "native",
        sign: (digest, secretKey) => {
          const { signature, recid } = native.ecdsaSign(digest, secretKey);
          return { signature, recoveryId: recid };
        },
      }
    : wasm;
  return chosen;
}

/** The wasm signer, whatever loaded (for the contract test and the bench's comparison). */
export const wasmSigner: RecoverableSigner = wasm;

export { isPrivate };
