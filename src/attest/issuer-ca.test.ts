/**
 * Chain walkers must refuse an end-entity certificate used as an issuer (RFC 5280
 * §6.1.4(k)). The forged certificates are minted with the simulator's own leaf keys, the
 * situation of an attacker holding one leaked leaf key.
 */
import { X509Certificate, createPrivateKey, generateKeyPairSync, sign } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { AttestationError } from "../errors.js";
import { parsePemChain, trustedRoots, verifyChain as verifyIntelChain } from "./intel/certs.js";
import { verifyChain as verifyVendorChain } from "./nvidia/x509.js";
import {
  SIMULATED_GPU_ROOT_CERT_PEM,
  SIMULATED_GPU_ROOT_KEY_PEM,
  SIMULATED_PCK_CA_CERT_PEM,
  SIMULATED_PCK_CA_KEY_PEM,
  SIMULATED_PCK_LEAF_CERT_PEM,
  SIMULATED_ROOT_CERT_PEM,
} from "./simulator/roots.js";

/** Minimal DER: enough to take a certificate apart and build a TBSCertificate. */
function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

/** The child TLVs (whole encodings) of a constructed TLV. */
function children(der: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const header = (b: Buffer, o: number): [number, number] => {
    const l = b[o + 1] as number;
    if (l < 0x80) return [2, l];
    let v = 0;
    for (let i = 0; i < (l & 0x7f); i++) v = (v << 8) | (b[o + 2 + i] as number);
    return [2 + (l & 0x7f), v];
  };
  const [h0, len0] = header(der, 0);
  let o = h0;
  while (o < h0 + len0) {
    const [h, len] = header(der, o);
    out.push(der.subarray(o, o + h + len));
    o += h + len;
  }
  return out;
}

const SIG_ALG = {
  sha256: Buffer.from("300a06082a8648ce3d040302", "hex"), // ecdsa-with-SHA256
  sha384: Buffer.from("300a06082a8648ce3d040303", "hex"), // ecdsa-with-SHA384
} as const;
const cnName = (cn: string): Buffer =>
  tlv(0x30, tlv(0x31, tlv(0x30, Buffer.concat([Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]), tlv(0x0c, Buffer.from(cn))]))));
/** [3] { extensions: basicConstraints cA=FALSE } and no keyUsage, so OpenSSL's checkIssued alone accepts it as an issuer. */
const NOT_CA_EXT = tlv(0xa3, tlv(0x30, tlv(0x30, Buffer.concat([Buffer.from("0603551d13", "hex"), tlv(0x04, tlv(0x30, Buffer.alloc(0)))]))));

interface Minted {
  readonly cert: X509Certificate;
  readonly keyPem: string;
}

/** A v3 certificate named `cn`, issued under `issuerName` and signed with `issuerKeyPem`. */
function mint(cn: string, issuerName: Buffer, issuerKeyPem: string, hash: "sha256" | "sha384"): Minted {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const now = new Date();
  const utc = (d: Date): Buffer => tlv(0x17, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-:T]/g, "")}Z`));
  const validity = tlv(0x30, Buffer.concat([utc(new Date(now.getTime() - 3_600_000)), utc(new Date(now.getTime() + 3_600_000))]));
  const tbs = tlv(0x30, Buffer.concat([
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // v3
    tlv(0x02, Buffer.from([0x0b, 0xad])),
    SIG_ALG[hash],
    issuerName,
    validity,
    cnName(cn),
    publicKey.export({ type: "spki", format: "der" }),
    NOT_CA_EXT,
  ]));
  const sig = sign(hash, tbs, createPrivateKey(issuerKeyPem));
  const cert = new X509Certificate(tlv(0x30, Buffer.concat([tbs, SIG_ALG[hash], tlv(0x03, Buffer.concat([Buffer.from([0]), sig]))])));
  return { cert, keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
}

/** The DER subject Name of a PEM certificate (TBSCertificate field 5). */
function subjectName(pem: string): Buffer {
  const [tbs] = children(new X509Certificate(pem).raw) as [Buffer];
  return children(tbs)[5] as Buffer;
}

/** A CA:FALSE end-entity under `caPem`, and a certificate that end-entity issued. */
function leafAsIssuer(caPem: string, caKeyPem: string, caHash: "sha256" | "sha384"): { leaf: X509Certificate; forged: X509Certificate } {
  const leaf = mint("End entity without keyUsage", subjectName(caPem), caKeyPem, caHash);
  const [leafTbs] = children(leaf.cert.raw) as [Buffer];
  const forged = mint("Forged by an end entity", children(leafTbs)[5] as Buffer, leaf.keyPem, "sha256");
  return { leaf: leaf.cert, forged: forged.cert };
}

describe("chain walkers require issuers to be CA certificates", () => {
  let pck: { leaf: X509Certificate; forged: X509Certificate };
  let gpu: { leaf: X509Certificate; forged: X509Certificate };
  beforeAll(() => {
    pck = leafAsIssuer(SIMULATED_PCK_CA_CERT_PEM, SIMULATED_PCK_CA_KEY_PEM, "sha256");
    gpu = leafAsIssuer(SIMULATED_GPU_ROOT_CERT_PEM, SIMULATED_GPU_ROOT_KEY_PEM, "sha384");
  });

  it("OpenSSL's issuer check alone accepts the end entity as issuer (control)", () => {
    for (const { leaf, forged } of [pck, gpu]) {
      expect(leaf.ca).toBe(false);
      expect(forged.checkIssued(leaf) && forged.verify(leaf.publicKey)).toBe(true);
    }
    expect(pck.leaf.verify(new X509Certificate(SIMULATED_PCK_CA_CERT_PEM).publicKey)).toBe(true);
    expect(gpu.leaf.verify(new X509Certificate(SIMULATED_GPU_ROOT_CERT_PEM).publicKey)).toBe(true);
  });

  it("DCAP: rejects a PCK chain in which an end entity issues the leaf (CERT_CHAIN_INVALID)", () => {
    const roots = trustedRoots([SIMULATED_ROOT_CERT_PEM]);
    const genuine = parsePemChain(SIMULATED_PCK_LEAF_CERT_PEM + SIMULATED_PCK_CA_CERT_PEM + SIMULATED_ROOT_CERT_PEM, "PCK chain");
    expect(verifyIntelChain(genuine, roots, new Date(), "PCK chain").leaf).toBe(genuine[0]);
    const [, ca, root] = genuine as [X509Certificate, X509Certificate, X509Certificate];
    expect(verifyIntelChain([pck.leaf, ca, root], roots, new Date(), "PCK chain").leaf).toBe(pck.leaf);
    let err: unknown;
    try {
      verifyIntelChain([pck.forged, pck.leaf, ca, root], roots, new Date(), "PCK chain");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AttestationError);
    expect((err as AttestationError).code).toBe("CERT_CHAIN_INVALID");
    expect((err as AttestationError).message).toMatch(/not a CA/);
  });

  it("NVIDIA/SNP walker: rejects an end entity as issuer, in the chain or as the trust anchor (CERT_CHAIN_INVALID)", () => {
    const root = new X509Certificate(SIMULATED_GPU_ROOT_CERT_PEM);
    expect(verifyVendorChain([gpu.leaf, root], [root], new Date()).ok).toBe(true);
    expect(verifyVendorChain([gpu.forged, gpu.leaf, root], [root], new Date())).toMatchObject({ ok: false, code: "CERT_CHAIN_INVALID", message: expect.stringMatching(/not a CA/) });
    expect(verifyVendorChain([gpu.forged], [gpu.leaf], new Date())).toMatchObject({ ok: false, code: "CERT_CHAIN_INVALID", message: expect.stringMatching(/not a CA/) });
  });
});
