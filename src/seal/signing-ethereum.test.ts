/**
 * What we rely on from Ethereum tooling: a node's ecdsa signature is an EIP-191 personal
 * message signature that ethers' and viem's verifyMessage recover to the attested
 * signing_address (NEAR AI's own verifier uses ethers), and our verifier reads the bare
 * form older nodes sent as well as the 0x form.
 */
import { verifyMessage as ethersVerify } from "ethers";
import { recoverMessageAddress, verifyMessage as viemVerify } from "viem";
import { describe, expect, it } from "vitest";
import { createSigner, recoverAddress, verifySignedText } from "./signing.js";

const text = `${"a".repeat(64)}:${"b".repeat(64)}:${"c".repeat(64)}`;

describe("ecdsa response signatures and Ethereum tools", () => {
  const s = createSigner("ecdsa");
  const sig = s.sign(text);

  it("are 0x + 65 bytes r||s||v with v 27 or 28", () => {
    expect(sig).toMatch(/^0x[0-9a-f]{130}$/);
    expect([27, 28]).toContain(Number.parseInt(sig.slice(-2), 16));
  });

  it("recover to the signing address with ethers.verifyMessage", () => {
    expect(ethersVerify(text, sig).toLowerCase()).toBe(s.address);
  });

  it("verify with viem's verifyMessage and recoverMessageAddress", async () => {
    const address = s.address as `0x${string}`;
    expect(await viemVerify({ address, message: text, signature: sig as `0x${string}` })).toBe(true);
    expect((await recoverMessageAddress({ message: text, signature: sig as `0x${string}` })).toLowerCase()).toBe(s.address);
    expect(await viemVerify({ address, message: `${text}x`, signature: sig as `0x${string}` })).toBe(false);
  });

  it("our verifier accepts the 0x and the bare form, and v as 0/1", () => {
    const bare = sig.slice(2);
    const v01 = `${bare.slice(0, 128)}${(Number.parseInt(bare.slice(128), 16) - 27).toString(16).padStart(2, "0")}`;
    for (const form of [sig, bare, v01]) {
      expect(recoverAddress(text, form)).toBe(s.address);
      expect(verifySignedText({ text, signature: form, signing_address: s.address, signing_algo: "ecdsa" })).toBe(true);
    }
  });
});
