/**
 * The XMLDSig algorithms NVIDIA's RIMs use that xml-crypto does not ship:
 * ECDSA-SHA384 (RFC 6931 §2.3.6; SignatureValue is raw r || s, RFC 4050 §3.3), SHA-384
 * digests (RFC 6931 §2.1.3) and Canonical XML 1.1. C14N 1.1 differs from 1.0 only in how
 * xml:id / xml:base are inherited (W3C xml-c14n11 §2.4); RIMs use neither, so the 1.0
 * canonicalizer produces identical bytes for them.
 */
import { createHash, createPublicKey, verify as cryptoVerify, type KeyLike } from "node:crypto";
import { C14nCanonicalization, SignedXml, type HashAlgorithm, type SignatureAlgorithm } from "xml-crypto";

export const C14N11 = "http://www.w3.org/2006/12/xml-c14n11";
export const ECDSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384";
export const SHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384";

class C14n11Canonicalization extends C14nCanonicalization {
  override getAlgorithmName(): string {
    return C14N11;
  }
}

class Sha384 implements HashAlgorithm {
  getHash(xml: string): string {
    return createHash("sha384").update(xml, "utf8").digest("base64");
  }
  getAlgorithmName(): string {
    return SHA384;
  }
}

class EcdsaSha384 implements SignatureAlgorithm {
  getSignature(): string {
    // Verifier only: we never sign RIMs.
    throw new TypeError("ECDSA-SHA384 signing is not supported");
  }
  verifySignature(material: string, key: KeyLike, signatureValue: string): boolean {
    try {
      return cryptoVerify("sha384", Buffer.from(material, "utf8"), { key: createPublicKey(key), dsaEncoding: "ieee-p1363" }, Buffer.from(signatureValue, "base64"));
    } catch {
      return false;
    }
  }
  getAlgorithmName(): string {
    return ECDSA_SHA384;
  }
}

/** A SignedXml that checks with exactly this certificate's key and knows the RIM algorithms. */
export function rimSignedXml(publicCertPem: string): SignedXml {
  // getCertFromKeyInfo returns null so the key is the one we chose (after chain checks),
  // never whatever certificate the document itself names.
  const sig = new SignedXml({ publicCert: publicCertPem, getCertFromKeyInfo: () => null });
  return withRimAlgorithms(sig);
}

/** Registers C14N 1.1, SHA-384 and ECDSA-SHA384 (verify only) on a SignedXml; the simulator adds its own signer. */
export function withRimAlgorithms(sig: SignedXml): SignedXml {
  sig.CanonicalizationAlgorithms[C14N11] = C14n11Canonicalization;
  sig.HashAlgorithms[SHA384] = Sha384;
  sig.SignatureAlgorithms[ECDSA_SHA384] = EcdsaSha384;
  return sig;
}
