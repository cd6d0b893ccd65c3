/**
 * Certificate revocation lists (RFC 5280 §5) for DCAP: the PCK CRL is signed by the PCK
 * Platform or Processor CA, the root CA CRL by Intel's root. Node has no CRL API, so we
 * take the DER apart ourselves and verify the signature over the TBSCertList with the
 * issuer's key. Checked independently of dcap-qvl, which does not check CRLs in its JS
 * build (tests in dcap-qvl.contract.test.ts record this).
 */
import { verify as cryptoVerify, type X509Certificate } from "node:crypto";
import { AttestationError } from "../../errors.js";
import { toHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { children, derTime, oidText, parseDer, type Tlv } from "./der.js";

export interface Crl {
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  /** Revoked serial numbers, lower-case hex without leading zeros. */
  readonly revoked: ReadonlySet<string>;
}

const ECDSA_SHA256 = "1.2.840.10045.4.3.2";

export function parseCrl(der: Uint8Array, what: string): Crl {
  try {
    // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
    const [tbsT, algT, sigT] = need(children(parseDer(der)), 3);
    const algOid = need(children(algT), 1)[0];
    if (sigT.tag !== 0x03 || sigT.value[0] !== 0) throw new Error("bad signature BIT STRING");
    // TBSCertList ::= SEQUENCE { version?, signature, issuer, thisUpdate, nextUpdate?, revokedCertificates?, [0] extensions? }
    const items = children(tbsT);
    let i = items[0]?.tag === 0x02 ? 1 : 0;
    i += 2; // signature algorithm, issuer
    const thisUpdate = derTime(need(items.slice(i), 1)[0]);
    i++;
    let nextUpdate: Date | null = null;
    const maybeNext = items[i];
    if (maybeNext && (maybeNext.tag === 0x17 || maybeNext.tag === 0x18)) {
      nextUpdate = derTime(maybeNext);
      i++;
    }
    const revoked = new Set<string>();
    const list = items[i];
    if (list && list.tag === 0x30) {
      for (const entry of children(list)) revoked.add(serialHex(need(children(entry), 1)[0].value));
    }
    return {
      tbs: tbsT.raw,
      signatureAlgorithm: oidText(algOid.value),
      signature: sigT.value.subarray(1),
      thisUpdate,
      nextUpdate,
      revoked,
    };
  } catch (cause) {
    throw new AttestationError(AttestCode.CRL_INVALID, `${what} is not a readable CRL`, { cause });
  }
}

function need(items: Tlv[], n: number): [Tlv, Tlv, Tlv] {
  if (items.length < n) throw new Error("DER structure too short");
  return items as [Tlv, Tlv, Tlv];
}

export function serialHex(bytes: Uint8Array): string {
  return toHex(bytes).replace(/^0+(?=.)/, "");
}

/** CRL_INVALID unless `issuer` signed the CRL (ECDSA with SHA-256, DER signature). */
export function verifyCrlSignature(crl: Crl, issuer: X509Certificate, what: string): void {
  let ok = false;
  try {
    ok = crl.signatureAlgorithm === ECDSA_SHA256 && cryptoVerify("sha256", crl.tbs, issuer.publicKey, crl.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new AttestationError(AttestCode.CRL_INVALID, `${what} is not signed by ${issuer.subject.split("\n")[0] ?? "its issuer"}`);
}

/** CRL_STALE unless thisUpdate <= now < nextUpdate (RFC 5280 §5.1.2.4-5). */
export function checkCrlFresh(crl: Crl, now: Date, what: string): void {
  if (now < crl.thisUpdate || !crl.nextUpdate || now >= crl.nextUpdate) {
    throw new AttestationError(
      AttestCode.CRL_STALE,
      `${what} is valid ${crl.thisUpdate.toISOString()} .. ${crl.nextUpdate?.toISOString() ?? "?"}, not at ${now.toISOString()}`,
    );
  }
}
