/**
 * An OCSP request (RFC 6960 §4.1.1) for one certificate: SEQUENCE { tbsRequest SEQUENCE {
 * requestList SEQUENCE OF SEQUENCE { CertID } } }, CertID hashed with SHA-384 as nvtrust
 * asks NVIDIA's OCSP service. Minimal DER encoding, node side only.
 */
import { createHash, type X509Certificate } from "node:crypto";
import { children, parseDer } from "../attest/intel/der.js";

function len(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v >>>= 8) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  return new Uint8Array([tag, ...len(body.length), ...body]);
}

// AlgorithmIdentifier { id-sha384 2.16.840.1.101.3.4.2.2, NULL }
const SHA384_ALG = tlv(0x30, new Uint8Array([0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02]), new Uint8Array([0x05, 0x00]));

function issuerParts(issuer: X509Certificate): { name: Uint8Array; key: Uint8Array } {
  const tbs = children(children(parseDer(new Uint8Array(issuer.raw)))[0] as ReturnType<typeof parseDer>);
  const base = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const name = tbs[base + 4]?.raw ?? new Uint8Array();
  const spki = tbs[base + 5];
  const bits = spki ? children(spki)[1] : undefined;
  return { name, key: bits ? bits.value.subarray(1) : new Uint8Array() };
}

export function ocspRequest(cert: X509Certificate, issuer: X509Certificate): Uint8Array {
  const { name, key } = issuerParts(issuer);
  const h = (b: Uint8Array): Uint8Array => new Uint8Array(createHash("sha384").update(b).digest());
  const serialHex = cert.serialNumber.length % 2 ? `0${cert.serialNumber}` : cert.serialNumber;
  let serial = new Uint8Array(Buffer.from(serialHex, "hex"));
  if ((serial[0] ?? 0) & 0x80) serial = new Uint8Array([0, ...serial]);
  const certId = tlv(0x30, SHA384_ALG, tlv(0x04, h(name)), tlv(0x04, h(key)), tlv(0x02, serial));
  return tlv(0x30, tlv(0x30, tlv(0x30, tlv(0x30, certId))));
}
