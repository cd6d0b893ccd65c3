/**
 * Small X.509 helpers over node:crypto (verifier side only): split a PEM bundle and walk
 * a leaf-first chain up to one of a set of trusted roots. Used by the NVIDIA device and
 * RIM chains and by the AMD ARK -> ASK -> VCEK chain (node's X509Certificate.verify
 * handles ECDSA and RSA-PSS signatures alike).
 */
import { X509Certificate } from "node:crypto";
import { AttestCode } from "../codes.js";

const PEM_RE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM bundle, in order; throws (caller maps) when one does not parse. */
export function splitPemChain(pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_RE) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

/** Certificates from a list of PEM strings; bundles are split. */
export function parseRoots(pems: readonly string[]): X509Certificate[] {
  return pems.flatMap((p) => splitPemChain(p));
}

export type ChainResult =
  | { readonly ok: true; readonly anchor: X509Certificate }
  | { readonly ok: false; readonly code: AttestCode; readonly message: string };

function validAt(cert: X509Certificate, now: Date): boolean {
  const t = now.getTime();
  return new Date(cert.validFrom).getTime() <= t && t <= new Date(cert.validTo).getTime();
}

function sameCert(a: X509Certificate, b: X509Certificate): boolean {
  return a.raw.equals(b.raw);
}

function safeIssued(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent);
  } catch {
    return false;
  }
}

// Whether a certificate's signature verifies under a key never changes, so results are
// memoised by the two certificates' full SHA-256 fingerprints (device chains repeat on every
// request). Bounded: cleared when it grows past MEMO_LIMIT entries.
const MEMO_LIMIT = 4096;
const signedByMemo = new Map<string, boolean>();

function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
  const key = `${child.fingerprint256}>${parent.fingerprint256}`;
  const known = signedByMemo.get(key);
  if (known !== undefined) return known;
  let ok: boolean;
  try {
    ok = child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    ok = false;
  }
  if (signedByMemo.size >= MEMO_LIMIT) signedByMemo.clear();
  signedByMemo.set(key, ok);
  return ok;
}

/**
 * Verifies a leaf-first chain: each certificate is issued and signed by the next, all are
 * valid at `now`, and the last is either one of `roots` (byte-equal) or signed by one.
 * RFC 5280 §6.1 in its simplest form: no policy or name constraints, which none of the
 * vendor chains we check use. Revocation (OCSP/CRL) is the caller's job.
 */
export function verifyChain(chain: readonly X509Certificate[], roots: readonly X509Certificate[], now: Date): ChainResult {
  if (chain.length === 0) return { ok: false, code: AttestCode.CERT_CHAIN_INVALID, message: "empty certificate chain" };
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i] as X509Certificate;
    const parent = chain[i + 1] as X509Certificate;
    if (!signedBy(child, parent)) {
      return { ok: false, code: AttestCode.CERT_CHAIN_INVALID, message: `certificate ${i} (${child.subject.replace(/\n/g, ", ")}) is not signed by the next one` };
    }
    // RFC 5280 §6.1.4(k): only a CA (basicConstraints cA=TRUE) may issue certificates.
    if (!parent.ca) {
      return { ok: false, code: AttestCode.CERT_CHAIN_INVALID, message: `certificate ${i + 1} (${parent.subject.replace(/\n/g, ", ")}) issues certificate ${i} but is not a CA certificate` };
    }
  }
  for (const [i, c] of chain.entries()) {
    if (!validAt(c, now)) {
      return { ok: false, code: AttestCode.CERT_EXPIRED, message: `certificate ${i} is not valid at ${now.toISOString()} (${c.validFrom} .. ${c.validTo})` };
    }
  }
  const top = chain[chain.length - 1] as X509Certificate;
  for (const root of roots) {
    if (sameCert(top, root)) {
      // A trusted root in the chain must still be self-signed (it is a root, not just a name).
      if (!signedBy(root, root)) return { ok: false, code: AttestCode.CERT_CHAIN_INVALID, message: "trusted root is not self-signed" };
      return { ok: true, anchor: root };
    }
    if (signedBy(top, root)) {
      if (!root.ca) return { ok: false, code: AttestCode.CERT_CHAIN_INVALID, message: "trusted root is not a CA certificate" };
      if (!validAt(root, now)) return { ok: false, code: AttestCode.CERT_EXPIRED, message: "trusted root is not valid at this time" };
      return { ok: true, anchor: root };
    }
  }
  // Names a trusted root as issuer but its signature does not verify: tampered, not foreign.
  if (roots.some((r) => safeIssued(top, r))) {
    return { ok: false, code: AttestCode.CERT_CHAIN_INVALID, message: `${top.subject.replace(/\n/g, ", ")} names a trusted root as issuer but is not signed by it` };
  }
  return { ok: false, code: AttestCode.FOREIGN_ROOT, message: `chain ends in ${top.issuer.replace(/\n/g, ", ")}, which is not a trusted root` };
}
