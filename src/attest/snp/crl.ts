/**
 * AMD KDS certificate revocation lists (https://kdsintf.amd.com/vcek/v1/<product>/crl):
 * an X.509 v2 CRL (RFC 5280 §5.1) issued and RSASSA-PSS-signed by the product's ARK,
 * listing revoked ASKs and VCEKs. Parsed from DER directly so no ASN.1 framework is needed.
 */
import { constants, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { equalBytes } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import type { VerificationIssue } from "../types.js";
import { children, oidToString, readTlv, type Tlv } from "./der.js";

const RSASSA_PSS = "1.2.840.113549.1.1.10";
const ECDSA_SHA384 = "1.2.840.10045.4.3.3";

export interface SnpCrl {
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  /** Revoked serial numbers, upper-case hex without leading zeros (node's X509Certificate.serialNumber form). */
  readonly revokedSerials: readonly string[];
}

function time(b: Uint8Array, t: Tlv | undefined): Date | null {
  if (!t || (t.tag !== 0x17 && t.tag !== 0x18)) return null;
  const s = new TextDecoder().decode(b.subarray(t.contentStart, t.end));
  const m = t.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return null;
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900; // RFC 5280 §4.1.2.5.1
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

function serialHex(b: Uint8Array, t: Tlv): string {
  return Buffer.from(b.subarray(t.contentStart, t.end)).toString("hex").toUpperCase().replace(/^(00)+(?=.)/, "");
}

/** Parses a DER CRL; null when it is not one. */
export function parseCrl(der: Uint8Array): SnpCrl | null {
  const outer = readTlv(der, 0);
  if (!outer || outer.tag !== 0x30 || outer.end !== der.length) return null;
  const [tbs, alg, sig] = children(der, outer) ?? [];
  if (!tbs || tbs.tag !== 0x30 || !alg || alg.tag !== 0x30 || !sig || sig.tag !== 0x03) return null;
  const algOid = children(der, alg)?.[0];
  if (!algOid || algOid.tag !== 0x06) return null;
  const f = children(der, tbs);
  if (!f) return null;
  let i = f[0]?.tag === 0x02 ? 1 : 0; // optional version
  i += 1; // inner signature AlgorithmIdentifier
  const issuer = f[i++];
  const thisUpdate = time(der, f[i++]);
  let nextUpdate: Date | null = null;
  const maybeNext = f[i];
  if (maybeNext && (maybeNext.tag === 0x17 || maybeNext.tag === 0x18)) {
    nextUpdate = time(der, maybeNext);
    i++;
  }
  if (!issuer || issuer.tag !== 0x30 || !thisUpdate) return null;
  const revokedSerials: string[] = [];
  const list = f[i];
  if (list && list.tag === 0x30) {
    for (const entry of children(der, list) ?? []) {
      const serial = children(der, entry)?.[0];
      if (!serial || serial.tag !== 0x02) return null;
      revokedSerials.push(serialHex(der, serial));
    }
  }
  if (sig.end - sig.contentStart < 2 || der[sig.contentStart] !== 0) return null;
  return {
    tbs: der.subarray(tbs.start, tbs.end),
    signatureAlgorithm: oidToString(der.subarray(algOid.contentStart, algOid.end)),
    signature: der.subarray(sig.contentStart + 1, sig.end),
    issuerDer: der.subarray(issuer.start, issuer.end),
    thisUpdate,
    nextUpdate,
    revokedSerials,
  };
}

function signatureValid(crl: SnpCrl, key: KeyObject): boolean {
  try {
    if (crl.signatureAlgorithm === RSASSA_PSS) {
      // AMD's only PSS profile: SHA-384, MGF1-SHA-384, 48-byte salt (VCEK spec 57230 §3).
      return cryptoVerify("sha384", crl.tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }, crl.signature);
    }
    if (crl.signatureAlgorithm === ECDSA_SHA384) return cryptoVerify("sha384", crl.tbs, key, crl.signature);
    return false;
  } catch {
    return false;
  }
}

export interface CrlIssuer {
  readonly key: KeyObject;
  /** DER of the issuer's subject Name; the CRL's issuer must equal it. */
  readonly subjectDer: Uint8Array;
}

/**
 * Checks the CRL (signature by the issuer, issuer name, freshness) and then whether any of
 * `serials` is listed. Returns the first problem, or null when nothing is revoked.
 */
export function checkCrl(crlDer: Uint8Array, issuer: CrlIssuer, serials: readonly string[], now: Date): VerificationIssue | null {
  const crl = parseCrl(crlDer);
  if (!crl) return { code: AttestCode.CRL_INVALID, message: "the CRL is not a readable DER CertificateList" };
  if (!equalBytes(crl.issuerDer, issuer.subjectDer)) return { code: AttestCode.CRL_INVALID, message: "the CRL was not issued by the ARK" };
  if (!signatureValid(crl, issuer.key)) return { code: AttestCode.CRL_INVALID, message: "the CRL signature does not verify with the ARK key" };
  if (crl.thisUpdate.getTime() > now.getTime()) return { code: AttestCode.CRL_INVALID, message: "the CRL is not yet valid" };
  if (crl.nextUpdate && crl.nextUpdate.getTime() < now.getTime()) return { code: AttestCode.CRL_STALE, message: `the CRL expired at ${crl.nextUpdate.toISOString()}` };
  const wanted = new Set(serials.map((s) => s.toUpperCase().replace(/^(00)+(?=.)/, "")));
  const hit = crl.revokedSerials.find((s) => wanted.has(s));
  return hit ? { code: AttestCode.CERT_REVOKED, message: `certificate with serial ${hit} is revoked` } : null;
}
