import { createHash, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AMD_SNP_ROOTS } from "./roots.js";

describe("embedded AMD roots", () => {
  it("has Milan, Genoa and Turin, each ARK self-signed with the pinned fingerprint", () => {
    expect(AMD_SNP_ROOTS.map((r) => r.product)).toEqual(["Milan", "Genoa", "Turin"]);
    for (const set of AMD_SNP_ROOTS) {
      const ark = new X509Certificate(set.arkPem);
      expect(createHash("sha256").update(ark.raw).digest("hex")).toBe(set.arkSha256);
      expect(ark.subject).toContain(`CN=ARK-${set.product}`);
      expect(ark.verify(ark.publicKey)).toBe(true);
    }
  });

  it("has every ASK and ASVK signed by its product's ARK (RSA-PSS)", () => {
    for (const set of AMD_SNP_ROOTS) {
      const ark = new X509Certificate(set.arkPem);
      const ask = new X509Certificate(set.askPem);
      expect(ask.subject).toContain(`CN=SEV-${set.product}`);
      expect(ask.checkIssued(ark) && ask.verify(ark.publicKey)).toBe(true);
      if (set.asvkPem) {
        const asvk = new X509Certificate(set.asvkPem);
        expect(asvk.subject).toContain(`CN=SEV-VLEK-${set.product}`);
        expect(asvk.verify(ark.publicKey)).toBe(true);
      }
    }
  });

  it("does not cross-sign: Genoa's ASK does not verify under Milan's ARK", () => {
    const [milan, genoa] = AMD_SNP_ROOTS;
    expect(new X509Certificate(genoa?.askPem ?? "").verify(new X509Certificate(milan?.arkPem ?? "").publicKey)).toBe(false);
  });
});
