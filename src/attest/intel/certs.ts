/**
 * X.509 chains for DCAP: the PCK chain in a quote (PCK leaf, PCK Platform/Processor CA,
 * Intel SGX Root CA) and the issuer chains of collateral (TCB Signing cert, root; PCK CA,
 * root). Node's X509Certificate does the signature math; we decide the order of checks
 * so each failure gets its own code: a broken link is CERT_CHAIN_INVALID, a sound chain
 * to an untrusted root is FOREIGN_ROOT, a certificate outside its validity is CERT_EXPIRED.
 */
import { X509Certificate, createHash, type KeyObject } from "node:crypto";
import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";
import { INTEL_SGX_ROOT_CA_PEM } from "./intel-root.js";

const PEM_RE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export function parsePemChain(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(PEM_RE) ?? [];
  if (blocks.length === 0) throw new AttestationError(AttestCode.CERT_CHAIN_INVALID, `${what}: no certificate found`);
  return blocks.map((b, i) => {
    try {
      return cachedCert(b);
    } catch (cause) {
      throw new AttestationError(AttestCode.CERT_CHAIN_INVALID, `${what}: certificate ${i} is unreadable`, { cause });
    }
  });
}

/**
 * Parsing a certificate costs ~0.2 ms and the same few chains (Intel's CAs, a platform's
 * PCK) come back on every verification, so parsed certificates are kept by their exact
 * PEM text (immutable input, so the cache cannot change a result). Bounded: cleared when full.
 */
const certCache = new Map<string, X509Certificate>();
const CERT_CACHE_MAX = 512;
function cachedCert(pem: string): X509Certificate {
  let c = certCache.get(pem);
  if (!c) {
    c = new X509Certificate(pem);
    if (certCache.size >= CERT_CACHE_MAX) certCache.clear();
    certCache.set(pem, c);
  }
  return c;
}

let intelRoot: X509Certificate | undefined;
export function intelRootCa(): X509Certificate {
  intelRoot ??= new X509Certificate(INTEL_SGX_ROOT_CA_PEM);
  return intelRoot;
}

/** SHA-256 of the DER SubjectPublicKeyInfo: roots are compared by key, not by name. */
const spkiCache = new WeakMap<X509Certificate, string>();
export function spkiSha256(cert: X509Certificate): string {
  let v = spkiCache.get(cert);
  if (v === undefined) {
    v = createHash("sha256").update(cert.publicKey.export({ type: "spki", format: "der" })).digest("hex");
    spkiCache.set(cert, v);
  }
  return v;
}

export function trustedRoots(pems: readonly string[] | undefined): X509Certificate[] {
  if (!pems || pems.length === 0) return [intelRootCa()];
  return pems.flatMap((p) => parsePemChain(p, "trusted root"));
}

export interface ChainResult {
  readonly leaf: X509Certificate;
  readonly root: X509Certificate;
  /** The chain ends at Intel's SGX Root CA (as opposed to another caller-trusted root). */
  readonly intel: boolean;
}

/**
 * Verifies that each certificate is issued and signed by the next, that the last is a
 * trusted root (or issued by one), and that every certificate is valid at `now`.
 */
export function verifyChain(certs: readonly X509Certificate[], roots: readonly X509Certificate[], now: Date, what: string): ChainResult {
  try {
    return verifyChainUnsafe(certs, roots, now, what);
  } catch (e) {
    if (e instanceof AttestationError) throw e;
    // OpenSSL refuses some corrupted certificates only when a key is used (decode errors).
    throw new AttestationError(AttestCode.CERT_CHAIN_INVALID, `${what}: a certificate is corrupted`, { cause: e });
  }
}

function verifyChainUnsafe(certs: readonly X509Certificate[], roots: readonly X509Certificate[], now: Date, what: string): ChainResult {
  const fail = (code: string, msg: string): never => {
    throw new AttestationError(code, `${what}: ${msg}`);
  };
  const leaf = certs[0];
  if (!leaf) return fail(AttestCode.CERT_CHAIN_INVALID, "empty chain");
  for (let i = 0; i + 1 < certs.length; i++) {
    const child = certs[i] as X509Certificate;
    const parent = certs[i + 1] as X509Certificate;
    if (!safeVerify(child, parent)) {
      fail(AttestCode.CERT_CHAIN_INVALID, `certificate ${i} (${cn(child)}) is not signed by ${cn(parent)}`);
    }
    // RFC 5280 §6.1.4(k): only a CA (basicConstraints cA=TRUE) may issue; otherwise any
    // end-entity key (a leaked PCK leaf, say) could mint "PCK certificates" of its own.
    if (!parent.ca) fail(AttestCode.CERT_CHAIN_INVALID, `certificate ${i + 1} (${cn(parent)}) issues certificate ${i} but is not a CA certificate`);
  }
  const last = certs[certs.length - 1] as X509Certificate;
  const lastKey = spkiSha256(last);
  let root = roots.find((r) => spkiSha256(r) === lastKey);
  if (root) {
    if (!safeVerify(last, last)) fail(AttestCode.CERT_CHAIN_INVALID, `root ${cn(last)} is not self-signed`);
  } else {
    root = roots.find((r) => safeVerify(last, r));
    if (!root) fail(AttestCode.FOREIGN_ROOT, `chain ends at ${cn(last)}, which is not a trusted root`);
    if (root && !root.ca) fail(AttestCode.CERT_CHAIN_INVALID, `trusted root ${cn(root)} is not a CA certificate`);
  }
  for (const c of [...certs, root as X509Certificate]) {
    const from = new Date(c.validFrom);
    const to = new Date(c.validTo);
    if (!(now >= from && now <= to)) {
      fail(AttestCode.CERT_EXPIRED, `${cn(c)} is valid ${from.toISOString()} .. ${to.toISOString()}, not at ${now.toISOString()}`);
    }
  }
  const r = root as X509Certificate;
  return { leaf, root: r, intel: spkiSha256(r) === spkiSha256(intelRootCa()) };
}

function safeVerify(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/** The certificate's key, or null when its SubjectPublicKeyInfo does not decode. */
export function publicKeyOf(cert: X509Certificate): KeyObject | null {
  try {
    return cert.publicKey;
  } catch {
    return null;
  }
}

export function cn(c: X509Certificate): string {
  return /CN=([^\n]+)/.exec(c.subject)?.[1] ?? c.subject;
}
