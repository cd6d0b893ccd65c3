/**
 * The three signatures inside every DCAP quote, checked offline (no collateral):
 *  1. the PCK chain (leaf, PCK CA, root) ends at a trusted root;
 *  2. the QE report is signed by the PCK leaf key, and its report_data[0:32] is
 *     SHA-256(attestation key || QE auth data), [32:64] zero (SGX ECDSA API A.4,
 *     "QE Report"; TDX API A.3.10) — the QE vouches for the attestation key;
 *  3. the quote (header and body) is signed by that attestation key (TDX API A.3.8).
 * Order matters: each tampering is reported by the first check it breaks.
 */
import { createPublicKey, createHash, verify as cryptoVerify, type KeyObject, type X509Certificate } from "node:crypto";
import { AttestationError } from "../../errors.js";
import { equalBytes } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import type { CheckList } from "../types.js";
import { parsePemChain, publicKeyOf, verifyChain, type ChainResult } from "./certs.js";
import type { ParsedQuote } from "./quote-types.js";

export interface SignatureOutcome {
  /** Present when the PCK chain verified. */
  readonly chain: ChainResult | null;
  /** The parsed PCK chain (even when it did not verify), leaf first. */
  readonly pckCerts: readonly X509Certificate[];
}

export function checkQuoteSignatures(q: ParsedQuote, roots: readonly X509Certificate[], now: Date, list: CheckList): SignatureOutcome {
  const sd = q.signatureData;
  const cert = sd.certification;
  let pckCerts: X509Certificate[] = [];
  let chain: ChainResult | null = null;
  try {
    pckCerts = parsePemChain(cert.pckChainPem, "PCK chain");
    chain = verifyChain(pckCerts, roots, now, "PCK chain");
    list.pass("PCK certificate chain", `ends at ${chain.intel ? "Intel SGX Root CA" : "a caller-trusted root"}`);
  } catch (e) {
    failWith(list, "PCK certificate chain", e, AttestCode.CERT_CHAIN_INVALID);
  }

  const leaf = pckCerts[0];
  const leafKey = leaf ? publicKeyOf(leaf) : null;
  if (!leafKey) {
    list.notChecked("QE report signature", "no readable PCK certificate key to check it with");
  } else if (ecdsaP256Verify(leafKey, cert.qeReport.raw, cert.qeReportSignature)) {
    list.pass("QE report signature", "signed by the PCK key");
  } else {
    list.fail("QE report signature", AttestCode.QE_REPORT_INVALID, "the QE report is not signed by the PCK certificate's key");
  }

  const expected = createHash("sha256").update(sd.attestationKey).update(cert.qeAuthData).digest();
  const rd = cert.qeReport.reportData;
  if (equalBytes(rd.subarray(0, 32), expected) && rd.subarray(32).every((b) => b === 0)) {
    list.pass("QE report binds the attestation key");
  } else {
    list.fail(
      "QE report binds the attestation key",
      AttestCode.QE_REPORT_INVALID,
      "QE report_data is not SHA-256(attestation key || QE auth data): the attestation key is not the one the QE vouched for",
    );
  }

  const attKey = rawP256Key(sd.attestationKey);
  if (attKey && ecdsaP256Verify(attKey, q.signedBytes, sd.signature)) {
    list.pass("quote signature", "header and body signed by the attestation key");
  } else {
    list.fail("quote signature", AttestCode.QUOTE_SIGNATURE_INVALID, "the quote is not signed by its attestation key");
  }
  return { chain, pckCerts };
}

export function failWith(list: CheckList, name: string, e: unknown, fallback: string): void {
  if (e instanceof AttestationError) list.fail(name, e.code, e.message);
  else list.fail(name, fallback, e instanceof Error ? e.message : String(e));
}

/** ECDSA P-256 / SHA-256 over raw r||s (64 bytes), the encoding DCAP uses throughout. */
export function ecdsaP256Verify(key: KeyObject, data: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  try {
    return cryptoVerify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, sig);
  } catch {
    return false;
  }
}

/** A raw x||y P-256 point as a key; null when it is not on the curve. */
export function rawP256Key(xy: Uint8Array): KeyObject | null {
  if (xy.length !== 64) return null;
  try {
    return createPublicKey({
      key: { kty: "EC", crv: "P-256", x: Buffer.from(xy.subarray(0, 32)).toString("base64url"), y: Buffer.from(xy.subarray(32)).toString("base64url") },
      format: "jwk",
    });
  } catch {
    return null;
  }
}
