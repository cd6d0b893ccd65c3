import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSigner, recoverAddress, verifySignedText } from "./signing.js";

const text = `${"a".repeat(64)}:${"b".repeat(64)}`;

describe("response signatures", () => {
  it("ecdsa signatures recover to the signer's address and fail after any byte changes", () => {
    const s = createSigner("ecdsa");
    const sig = s.sign(text);
    expect(recoverAddress(text, sig)).toBe(s.address);
    expect(verifySignedText({ text, signature: sig, signing_address: s.address, signing_algo: "ecdsa" })).toBe(true);
    expect(verifySignedText({ text: `${text.slice(0, -1)}c`, signature: sig, signing_address: s.address, signing_algo: "ecdsa" })).toBe(false);
    const flipped = `${sig.slice(0, 10)}${sig[10] === "0" ? "1" : "0"}${sig.slice(11)}`;
    expect(verifySignedText({ text, signature: flipped, signing_address: s.address, signing_algo: "ecdsa" })).toBe(false);
  });

  it("ed25519 signatures verify with node's independent implementation", () => {
    const s = createSigner("ed25519");
    const sig = s.sign(text);
    // SPKI DER prefix for an Ed25519 public key (RFC 8410).
    const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(s.publicKey)]);
    const key = createPublicKey({ key: spki, format: "der", type: "spki" });
    expect(nodeVerify(null, Buffer.from(text), key, Buffer.from(sig, "hex"))).toBe(true);
    expect(verifySignedText({ text: `${text}x`, signature: sig, signing_address: s.address, signing_algo: "ed25519" })).toBe(false);
  });

  it("never throws on garbage", () => {
    expect(verifySignedText({ text, signature: "zz", signing_address: "0x00", signing_algo: "ecdsa" })).toBe(false);
  });
});
