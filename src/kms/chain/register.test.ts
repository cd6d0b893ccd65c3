import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { KmsCode, KmsError } from "../codes.js";
import { openRegistration } from "../registration.js";
import { ownerKey, registration } from "../test-fixtures.js";
import { chainTerms, priceTokenOf, royaltyBpsOf } from "./register.js";

const reg = (price: string, royalty: string, token = "native") => {
  const owner = ownerKey();
  return openRegistration(registration(owner, randomBytes(32), { price: { token, per_million_tokens: price }, royalty: { recipient: owner.address, per_million_tokens: royalty } }));
};
const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return e instanceof KmsError ? e.code : "OTHER";
  }
  return "OK";
};

describe("on-chain terms of a sealed model's registration", () => {
  it("turn the document's royalty per million tokens into the exact share of the price the escrow pays", () => {
    expect(royaltyBpsOf(reg("1000000", "200000").registration)).toBe(2000);
    expect(royaltyBpsOf(reg("0", "0").registration)).toBe(0);
  });

  it("refuse a royalty that is not an exact share of the price, or more than 90% of it", () => {
    expect(code(() => royaltyBpsOf(reg("3", "1").registration))).toBe(KmsCode.KMS_BAD_REQUEST);
    expect(code(() => royaltyBpsOf(reg("0", "5").registration))).toBe(KmsCode.KMS_BAD_REQUEST);
    expect(code(() => royaltyBpsOf(reg("100", "95").registration))).toBe(KmsCode.KMS_BAD_REQUEST);
  });

  it("name the native token or an ERC-20 address, and nothing else", () => {
    expect(priceTokenOf(reg("1", "0", "native").registration)).toBe("0x0000000000000000000000000000000000000000");
    expect(priceTokenOf(reg("1", "0", "0xAbCdEf0000000000000000000000000000000001").registration)).toBe("0xabcdef0000000000000000000000000000000001");
    expect(code(() => priceTokenOf(reg("1", "0", "USDC").registration))).toBe(KmsCode.KMS_BAD_REQUEST);
  });

  it("carry the signed document's digest as the policy digest, so a broker can check the document against the chain", () => {
    const r = reg("1000000", "100000");
    const t = chainTerms(r, "ipfs://x");
    expect(t.policyDigest).toBe(`0x${r.digest}`);
    expect(t).toMatchObject({ sequence: 1n, pricePerMTok: 1_000_000n, royaltyBps: 1000, policyUri: "ipfs://x", plaintextSha256: `0x${r.registration.plaintext_sha256}` });
  });
});
