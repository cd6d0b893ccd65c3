/**
 * OCSP answers for GPU certificates (RFC 6960), as NVIDIA's OCSP service
 * (ocsp.ndis.nvidia.com) gives them and nvtrust checks them: for every certificate of a
 * device chain below the root, one signed answer says `good`, within its
 * thisUpdate..nextUpdate window. The answer is signed by the certificate's issuer or by a
 * responder certificate carried in the answer that chains to a trusted root and has the
 * OCSPSigning extended key usage (§4.2.2.2). Pure: the node fetches, the verifier checks.
 */
import { createHash, verify as cryptoVerify, type X509Certificate } from "node:crypto";
import { X509Certificate as X509 } from "node:crypto";
import { equalBytes, fromHex } from "../../util/bytes.js";
import { children, derTime, oidText, parseDer, readTlv, type Tlv } from "../intel/der.js";
import { verifyChain } from "./x509.js";

const OCSP_BASIC = "1.3.6.1.5.5.7.48.1.1";
const OCSP_SIGNING = "1.3.6.1.5.5.7.3.9";
const HASHES: Readonly<Record<string, string>> = {
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};
const SIG_HASH: Readonly<Record<string, string>> = {
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
};

export interface OcspSingle {
  readonly hash: string;
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  readonly serial: Uint8Array;
  readonly status: "good" | "revoked" | "unknown";
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
}

export interface OcspResponse {
  readonly tbs: Uint8Array;
  readonly sigHash: string;
  readonly signature: Uint8Array;
  readonly certs: readonly X509Certificate[];
  readonly responses: readonly OcspSingle[];
}

export class OcspError extends Error {
  override readonly name = "OcspError";
}

const need = <T>(v: T | undefined, what: string): T => {
  if (v === undefined) throw new OcspError(`OCSP answer: ${what} missing`);
  return v;
};

/** Parses an OCSPResponse (DER) down to its BasicOCSPResponse. Throws OcspError. */
export function parseOcspResponse(der: Uint8Array): OcspResponse {
  try {
    return parseUnsafe(der);
  } catch (e) {
    if (e instanceof OcspError) throw e;
    throw new OcspError(`OCSP answer is not DER: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function parseUnsafe(der: Uint8Array): OcspResponse {
  const [status, bytesWrap] = children(parseDer(der));
  if (!status || status.tag !== 0x0a || status.value[0] !== 0) throw new OcspError(`OCSP responseStatus is ${status?.value[0] ?? "missing"}, not successful (0)`);
  const [rb] = children(need(bytesWrap, "responseBytes"));
  const [type, octets] = children(need(rb, "responseBytes"));
  if (!type || oidText(type.value) !== OCSP_BASIC) throw new OcspError("OCSP responseType is not id-pkix-ocsp-basic");
  const basic = children(parseDer(need(octets, "response").value));
  const tbs = need(basic[0], "tbsResponseData");
  const sigAlg = oidText(need(children(need(basic[1], "signatureAlgorithm"))[0], "algorithm").value);
  const sigHash = SIG_HASH[sigAlg];
  if (!sigHash) throw new OcspError(`OCSP signature algorithm ${sigAlg} is not ECDSA`);
  const sigBits = need(basic[2], "signature");
  const certs: X509Certificate[] = [];
  const certsWrap = basic[3];
  if (certsWrap && certsWrap.tag === 0xa0) for (const c of children(need(children(certsWrap)[0], "certs"))) certs.push(new X509(Buffer.from(c.raw)));

  const fields = children(tbs);
  let i = fields[0]?.tag === 0xa0 ? 1 : 0; // version [0] EXPLICIT DEFAULT v1
  i += 2; // responderID, producedAt
  const responses = children(need(fields[i], "responses")).map(single);
  return { tbs: tbs.raw, sigHash, signature: sigBits.value.subarray(1), certs, responses };
}

function single(t: Tlv): OcspSingle {
  const [certId, status, thisUpdate, ...rest] = children(t);
  const [alg, nameHash, keyHash, serial] = children(need(certId, "certID"));
  const hashOid = oidText(need(children(need(alg, "hashAlgorithm"))[0], "algorithm").value);
  const hash = HASHES[hashOid];
  if (!hash) throw new OcspError(`OCSP CertID hash ${hashOid} is not supported`);
  const s = need(status, "certStatus").tag;
  const next = rest.find((r) => r.tag === 0xa0);
  return {
    hash,
    issuerNameHash: need(nameHash, "issuerNameHash").value,
    issuerKeyHash: need(keyHash, "issuerKeyHash").value,
    serial: stripSign(need(serial, "serialNumber").value),
    status: s === 0x80 ? "good" : s === 0xa1 ? "revoked" : "unknown",
    thisUpdate: derTime(need(thisUpdate, "thisUpdate")),
    nextUpdate: next ? derTime(readTlv(next.value, 0)) : null,
  };
}

function stripSign(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

/** The issuer's subject Name DER and the bits of its public key (RFC 6960 §4.1.1 CertID). */
function issuerHashInputs(issuer: X509Certificate): { name: Uint8Array; key: Uint8Array } {
  const fields = children(need(children(parseDer(new Uint8Array(issuer.raw)))[0], "tbsCertificate"));
  const base = fields[0]?.tag === 0xa0 ? 1 : 0;
  const name = need(fields[base + 4], "subject").raw;
  const spki = children(need(fields[base + 5], "subjectPublicKeyInfo"));
  return { name, key: need(spki[1], "subjectPublicKey").value.subarray(1) };
}

const digest = (alg: string, data: Uint8Array): Uint8Array => new Uint8Array(createHash(alg).update(data).digest());

export type OcspVerdict = { readonly ok: true; readonly thisUpdate: Date } | { readonly ok: false; readonly revoked: boolean; readonly message: string };

/**
 * Finds, among `answers`, one that is signed for `cert` (issued by `issuer`) and says good
 * at `now`. Revoked wins over any good answer for the same certificate.
 */
export function checkOcsp(cert: X509Certificate, issuer: X509Certificate, answers: readonly OcspResponse[], roots: readonly X509Certificate[], now: Date): OcspVerdict {
  const serial = stripSign(fromHex(cert.serialNumber.length % 2 ? `0${cert.serialNumber}` : cert.serialNumber));
  const inputs = issuerHashInputs(issuer);
  let good: Date | null = null;
  let why = "no OCSP answer for this certificate";
  for (const a of answers) {
    for (const r of a.responses) {
      if (!equalBytes(r.serial, serial) || !equalBytes(r.issuerNameHash, digest(r.hash, inputs.name)) || !equalBytes(r.issuerKeyHash, digest(r.hash, inputs.key))) continue;
      if (!signedFor(a, issuer, roots, now)) {
        why = "the OCSP answer is not signed by the issuer or an authorised responder";
        continue;
      }
      if (r.status === "revoked") return { ok: false, revoked: true, message: `OCSP: certificate ${cert.serialNumber} is revoked` };
      if (r.status !== "good") {
        why = "OCSP says the certificate is unknown";
        continue;
      }
      if (now < r.thisUpdate || (r.nextUpdate !== null && now >= r.nextUpdate)) {
        why = `the OCSP answer is not current (${r.thisUpdate.toISOString()} .. ${r.nextUpdate?.toISOString() ?? "open"})`;
        continue;
      }
      good = r.thisUpdate;
    }
  }
  return good ? { ok: true, thisUpdate: good } : { ok: false, revoked: false, message: why };
}

function signedFor(a: OcspResponse, issuer: X509Certificate, roots: readonly X509Certificate[], now: Date): boolean {
  const verifies = (c: X509Certificate): boolean => {
    try {
      return cryptoVerify(a.sigHash, a.tbs, c.publicKey, a.signature);
    } catch {
      return false;
    }
  };
  if (verifies(issuer)) return true;
  // A delegated responder: carried in the answer, OCSPSigning, and chained to a trusted root.
  for (const [i, c] of a.certs.entries()) {
    if (!(c.keyUsage ?? []).includes(OCSP_SIGNING) || !verifies(c)) continue;
    if (verifyChain([c, ...a.certs.slice(i + 1)], roots, now).ok || c.checkIssued(issuer) && c.verify(issuer.publicKey)) return true;
  }
  return false;
}
