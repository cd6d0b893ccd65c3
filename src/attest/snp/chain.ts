/**
 * The SNP key chain: ARK (self-signed) -> ASK (or ASVK for VLEKs) -> VCEK (or VLEK), all
 * RSASSA-PSS SHA-384 except the VCEK's own P-384 key (VCEK spec 57230 §2.1, §3).
 * The ARK must be one we embed (or that the caller configured); the ASK may come from the
 * caller's chain or from our embedded copy, and must verify under that ARK either way.
 */
import { X509Certificate } from "node:crypto";
import { AttestCode } from "../codes.js";
import { verifyChain } from "../nvidia/x509.js";
import type { SnpRootSet } from "./roots.js";
import type { SnpProduct } from "./tcb.js";

export type SnpChainResult =
  | { readonly ok: true; readonly product: SnpProduct; readonly ark: X509Certificate; readonly intermediate: X509Certificate; readonly rootSet: SnpRootSet }
  | { readonly ok: false; readonly code: string; readonly message: string };

interface ParsedSet {
  readonly set: SnpRootSet;
  readonly ark: X509Certificate;
  readonly ask: X509Certificate;
  readonly asvk: X509Certificate | null;
}

const parsedCache = new WeakMap<SnpRootSet, ParsedSet>();
function parsed(set: SnpRootSet): ParsedSet {
  let p = parsedCache.get(set);
  if (!p) {
    p = { set, ark: new X509Certificate(set.arkPem), ask: new X509Certificate(set.askPem), asvk: set.asvkPem ? new X509Certificate(set.asvkPem) : null };
    parsedCache.set(set, p);
  }
  return p;
}

function selfSigned(c: X509Certificate): boolean {
  try {
    return c.checkIssued(c) && c.verify(c.publicKey);
  } catch {
    return false;
  }
}

/**
 * Finds an ARK among `sets` under which `leaf` verifies, through a supplied intermediate or
 * the embedded ASK/ASVK. `supplied` is the rest of the caller's chain (ASK/ASVK, ARK).
 */
export function verifySnpChain(leaf: X509Certificate, supplied: readonly X509Certificate[], sets: readonly SnpRootSet[], vlek: boolean, now: Date): SnpChainResult {
  const suppliedIntermediates = supplied.filter((c) => !selfSigned(c));
  let firstFailure: { code: string; message: string } | null = null;
  for (const set of sets) {
    const p = parsed(set);
    const embedded = vlek ? p.asvk : p.ask;
    const candidates = suppliedIntermediates.length > 0 ? suppliedIntermediates : embedded ? [embedded] : [];
    for (const inter of candidates) {
      const r = verifyChain([leaf, inter], [p.ark], now);
      if (r.ok) return { ok: true, product: set.product, ark: p.ark, intermediate: inter, rootSet: set };
      // Expiry says more than "not signed by this product's ASK"; keep it if we see it.
      if (r.code === AttestCode.CERT_EXPIRED && leaf.checkIssued(inter)) firstFailure ??= r;
    }
  }
  if (firstFailure) return { ok: false, ...firstFailure };
  // Diagnose: does the caller's chain verify internally, but to someone else's root?
  if (supplied.length > 0) {
    const r = verifyChain([leaf, ...supplied], sets.map((s) => parsed(s).ark), now);
    if (!r.ok) return r;
  }
  const names = sets.map((s) => s.product).join(", ");
  return { ok: false, code: AttestCode.CERT_CHAIN_INVALID, message: `the ${vlek ? "VLEK" : "VCEK"} is not signed by the AMD ${vlek ? "ASVK" : "ASK"} of ${names}` };
}
