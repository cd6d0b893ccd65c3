/**
 * What the node's signer relies on from `keccak` (its native addon through the `bindings`
 * entry), so an upgrade that changes it fails here: the prebuilt loads on linux-x64 (the
 * node's platform), and its Keccak-256 (not SHA3-256) gives noble's bytes, so the EIP-191
 * digest it feeds libsecp256k1 is the one ethers and viem recover from.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import { personalMessageHash } from "../seal/signing.js";
import { keccak256, keccakImpl, personalMessageDigest } from "./keccak-native.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("keccak (native addon) contract", () => {
  it("loads the native addon on linux-x64, not a JS fallback", () => {
    if (process.platform === "linux" && process.arch === "x64" && process.env["CLOISTER_KECCAK"] !== "js") expect(keccakImpl).toBe("native");
  });

  it("is Keccak-256: the known digest of the empty string and noble's bytes at every length around the 136-byte rate", () => {
    expect(hex(keccak256(new Uint8Array(0)))).toBe("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    for (let n = 0; n <= 300; n++) {
      const data = crypto.getRandomValues(new Uint8Array(n));
      expect(hex(keccak256(data))).toBe(hex(keccak_256(data)));
    }
  });

  it("the EIP-191 digest equals the browser-safe one, for ASCII and multi-byte text", () => {
    // A lone surrogate too: TextEncoder and Buffer both write it as U+FFFD, so the length prefix agrees.
    for (const text of ["", "a", `${"0".repeat(64)}:${"f".repeat(64)}`, "naïve — 日本語 🙂", "x".repeat(5000), "a\ud800b", "\udfff"]) {
      expect(hex(personalMessageDigest(text))).toBe(hex(personalMessageHash(text)));
    }
  });
});
