/**
 * Just enough X.509 (RFC 5280) for DCAP PCK chains and NVIDIA device chains in a browser:
 * the signed TBS bytes, the signature, the subject/issuer names (raw, compared byte for
 * byte), validity, the EC key (P-256 or P-384) and basicConstraints cA. Only
 * ecdsa-with-SHA256/SHA384 are accepted (what Intel, NVIDIA and the simulator use);
 * anything else is refused, never guessed at.
 */
import { p256, p384 } from "@noble/curves/nist.js";
import { sha256, sha384 } from "@noble/hashes/sha2.js";
import { children, derTime, oidText, parseDer, type Tlv } from "../../../src/attest/intel/der.js";

const ECDSA_SHA256 = "1.2.840.10045.4.3.2";
const ECDSA_SHA384 = "1.2.840.10045.4.3.3";
const CURVE: Readonly<Record<string, "p256" | "p384">> = { "1.2.840.10045.3.1.7": "p256", "1.3.132.0.34": "p384" };
const BASIC_CONSTRAINTS = "2.5.29.19";
const COMMON_NAME = "2.5.4.3";

export interface Cert {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly signature: Uint8Array;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Uncompressed SEC1 point (0x04 || x || y). */
  readonly publicKey: Uint8Array;
  readonly curve: "p256" | "p384";
  /** The hash this certificate was signed with (by its issuer). */
  readonly hash: "sha256" | "sha384";
  readonly ca: boolean;
  readonly commonName: string;
}

export class CertError extends Error {
  override readonly name = "CertError";
}

const at = (list: readonly Tlv[], i: number, what: string): Tlv => {
  const t = list[i];
  if (!t) throw new CertError(`certificate: missing ${what}`);
  return t;
};

export function pemBlocks(pem: string): Uint8Array[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => {
    const b64 = b.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
    const bin = atob(b64);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  });
}

export function parseCert(der: Uint8Array): Cert {
  const top = children(parseDer(der));
  const tbsT = at(top, 0, "TBS");
  const alg = children(at(top, 1, "algorithm"));
  const algOid = oidText(at(alg, 0, "algorithm OID").value);
  if (algOid !== ECDSA_SHA256 && algOid !== ECDSA_SHA384) throw new CertError("certificate: only ecdsa-with-SHA256/SHA384 are supported");
  const sigBits = at(top, 2, "signature").value;
  const tbs = children(tbsT);
  // [0] version is present in every v3 certificate; the fields shift by one without it.
  const o = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const validity = children(at(tbs, o + 3, "validity"));
  const spki = children(at(tbs, o + 5, "subject public key"));
  const subject = at(tbs, o + 4, "subject");
  const keyAlg = children(at(spki, 0, "key algorithm"));
  const curve = CURVE[oidText(at(keyAlg, 1, "curve").value)];
  if (!curve) throw new CertError("certificate: only P-256 and P-384 keys are supported");
  let ca = false;
  const ext = tbs.find((t) => t.tag === 0xa3);
  if (ext) {
    for (const e of children(at(children(ext), 0, "extensions"))) {
      const parts = children(e);
      if (oidText(at(parts, 0, "extension OID").value) !== BASIC_CONSTRAINTS) continue;
      const value = at(parts, parts.length - 1, "extension value").value;
      const bc = children(parseDer(value));
      ca = bc[0]?.tag === 0x01 && bc[0].value[0] === 0xff;
    }
  }
  return {
    der,
    tbs: tbsT.raw,
    signature: sigBits.subarray(1),
    issuer: at(tbs, o + 2, "issuer").raw,
    subject: subject.raw,
    notBefore: derTime(at(validity, 0, "notBefore")),
    notAfter: derTime(at(validity, 1, "notAfter")),
    publicKey: at(spki, 1, "key").value.subarray(1),
    curve,
    hash: algOid === ECDSA_SHA384 ? "sha384" : "sha256",
    ca,
    commonName: commonName(subject),
  };
}

function commonName(name: Tlv): string {
  for (const rdn of children(name)) {
    for (const atv of children(rdn)) {
      const [oid, value] = children(atv);
      if (oid && value && oidText(oid.value) === COMMON_NAME) return new TextDecoder().decode(value.value);
    }
  }
  return "(no common name)";
}

/** ECDSA P-256 over SHA-256 of `data`; `der` selects the X.509 signature encoding over raw r||s. */
export function p256Verify(publicKey: Uint8Array, data: Uint8Array, sig: Uint8Array, der: boolean): boolean {
  return ecdsaVerify("p256", "sha256", publicKey, data, sig, der);
}

export function ecdsaVerify(curve: "p256" | "p384", hash: "sha256" | "sha384", publicKey: Uint8Array, data: Uint8Array, sig: Uint8Array, der: boolean): boolean {
  try {
    const digest = hash === "sha384" ? sha384(data) : sha256(data);
    const c = curve === "p384" ? p384 : p256;
    return c.verify(sig, digest, publicKey, { prehash: false, format: der ? "der" : "compact", lowS: false });
  } catch {
    return false;
  }
}

/** The child's signature, checked with the parent's key on the parent's curve. */
function signedBy(child: Cert, parent: Cert): boolean {
  return ecdsaVerify(parent.curve, child.hash, parent.publicKey, child.tbs, child.signature, true);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export interface ChainOutcome {
  readonly root: Cert;
  readonly rootIndex: number;
}

/**
 * Each certificate issued (names match) and signed by the next, issuers are CAs, the last
 * is one of the trusted roots (matched by key) and self-signed, all valid at `now`.
 * Throws CertError saying which link broke.
 */
export function verifyChain(certs: readonly Cert[], roots: readonly Cert[], now: Date): ChainOutcome {
  if (certs.length === 0) throw new CertError("empty chain");
  for (let i = 0; i + 1 < certs.length; i++) {
    const child = certs[i] as Cert;
    const parent = certs[i + 1] as Cert;
    if (!sameBytes(child.issuer, parent.subject) || !signedBy(child, parent)) {
      throw new CertError(`certificate ${i} (${child.commonName}) is not signed by ${parent.commonName}`);
    }
    if (!parent.ca) throw new CertError(`${parent.commonName} issues a certificate but is not a CA`);
  }
  const last = certs[certs.length - 1] as Cert;
  const rootIndex = roots.findIndex((r) => sameBytes(r.publicKey, last.publicKey));
  if (rootIndex < 0) throw new CertError(`the chain ends at ${last.commonName}, which is not a trusted root`);
  if (!signedBy(last, last)) throw new CertError(`root ${last.commonName} is not self-signed`);
  for (const c of certs) {
    if (!(now >= c.notBefore && now <= c.notAfter)) throw new CertError(`${c.commonName} is not valid at ${now.toISOString()}`);
  }
  return { root: roots[rootIndex] as Cert, rootIndex };
}
