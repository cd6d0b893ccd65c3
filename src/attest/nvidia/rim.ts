/**
 * NVIDIA Reference Integrity Manifests: ISO/IEC 19770-2 SWID tags (TCG RIM Information
 * Model) listing, per SPDM measurement index, the digests the driver or VBIOS may produce,
 * enveloped-signed with XMLDSig by a certificate chaining to NVIDIA's RIM root.
 * We check the chain, then the signature with the leaf key, then read the measurements
 * only from the bytes the signature covered (xml-crypto's getSignedReferences), so a
 * wrapped or appended element can never supply reference values.
 */
import { createHash, X509Certificate } from "node:crypto";
import { DOMParser, type Element } from "@xmldom/xmldom";
import { AttestCode } from "../codes.js";
import { CheckList, type Verification } from "../types.js";
import { NVIDIA_RIM_ROOT_PEM } from "./roots.js";
import { parseRoots, verifyChain } from "./x509.js";
import { rimSignedXml } from "./xmldsig.js";

const DSIG_NS = "http://www.w3.org/2000/09/xmldsig#";

export interface RimMeasurement {
  readonly index: number;
  readonly name: string;
  readonly active: boolean;
  /** Accepted digests, lower-case hex (Hash0..HashN). */
  readonly alternatives: readonly string[];
}

export interface RimReference {
  readonly tagId: string;
  readonly product: string | null;
  /** e.g. "545.00" for a driver RIM, "96.00.5E.00.01" for a VBIOS RIM. */
  readonly version: string | null;
  readonly measurements: readonly RimMeasurement[];
}

export interface RimVerification extends Verification {
  readonly reference: RimReference | null;
}

export interface RimOptions {
  /** Defaults to NVIDIA's RIM root ("NVIDIA CoRIM signing Root CA"). */
  readonly trustedRootsPem?: readonly string[];
  readonly now?: Date;
}

function quiet(): DOMParser {
  // Malformed XML must become a failed check, not console noise or a throw from a callback.
  return new DOMParser({ onError: () => undefined });
}

function keyInfoCerts(doc: Document): X509Certificate[] {
  const sig = doc.getElementsByTagNameNS(DSIG_NS, "Signature")[0];
  if (!sig) return [];
  const out: X509Certificate[] = [];
  const nodes = sig.getElementsByTagNameNS(DSIG_NS, "X509Certificate");
  for (let i = 0; i < nodes.length; i++) {
    const b64 = (nodes[i]?.textContent ?? "").replace(/\s+/g, "");
    out.push(new X509Certificate(Buffer.from(b64, "base64")));
  }
  return out;
}

function attr(el: Element, local: string): string | null {
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes.item(i);
    if (a && (a.localName ?? a.name) === local) return a.value;
  }
  return null;
}

/** Reads the SWID payload's Resource elements (and Meta) from signed XML text. */
export function parseRimXml(signedXml: string): RimReference {
  const doc = quiet().parseFromString(signedXml, "text/xml");
  const root = doc.documentElement;
  if (!root || root.localName !== "SoftwareIdentity") throw new TypeError("not a SWID tag");
  const meta = root.getElementsByTagNameNS("*", "Meta")[0] ?? null;
  const resources = root.getElementsByTagNameNS("*", "Resource");
  const measurements: RimMeasurement[] = [];
  for (let i = 0; i < resources.length; i++) {
    const el = resources[i];
    if (!el || attr(el, "type") !== "Measurement") continue;
    const index = Number(attr(el, "index"));
    if (!Number.isInteger(index) || index < 0) throw new TypeError("Resource without a numeric index");
    const count = Number(attr(el, "alternatives") ?? "1");
    const alternatives: string[] = [];
    for (let h = 0; h < count; h++) {
      const v = attr(el, `Hash${h}`);
      if (v) alternatives.push(v.toLowerCase());
    }
    measurements.push({ index, name: attr(el, "name") ?? `Measurement_${index}`, active: (attr(el, "active") ?? "").toLowerCase() === "true", alternatives });
  }
  return {
    tagId: attr(root, "tagId") ?? "",
    product: meta ? attr(meta, "product") : null,
    version: meta ? attr(meta, "colloquialVersion") : null,
    measurements,
  };
}

function verification(checks: CheckList, reference: RimReference | null): RimVerification {
  return { ...checks.toVerification({ tee: "nvidia-gpu" }), reference };
}

/** Verifies a RIM's certificate chain and XMLDSig signature and returns its reference values. */
export function verifyRim(xml: string, opts: RimOptions = {}): RimVerification {
  const checks = new CheckList();
  const now = opts.now ?? new Date();
  let doc: Document;
  let certs: X509Certificate[];
  try {
    doc = quiet().parseFromString(xml, "text/xml") as unknown as Document;
    certs = keyInfoCerts(doc);
  } catch {
    checks.fail("RIM parses", AttestCode.RIM_SIGNATURE_INVALID, "the RIM is not readable XML with X.509 certificates");
    return verification(checks, null);
  }
  const leaf = certs[0];
  const sigNode = doc.getElementsByTagNameNS(DSIG_NS, "Signature")[0];
  if (!leaf || !sigNode) {
    checks.fail("RIM parses", AttestCode.RIM_SIGNATURE_INVALID, "the RIM carries no XML signature or signing certificate");
    return verification(checks, null);
  }
  const roots = parseRoots(opts.trustedRootsPem ?? [NVIDIA_RIM_ROOT_PEM]);
  const chain = verifyChain(certs, roots, now);
  if (chain.ok) checks.pass("RIM certificate chain", `to ${chain.anchor.subject.replace(/\n/g, ", ")}`);
  else checks.fail("RIM certificate chain", chain.code, chain.message);

  // XMLDSig checking is the slow part (~0.2 s per RIM here) and depends only on the bytes
  // and the leaf key: remember the outcome; the chain above is checked every time (time-dependent).
  const memoKey = createHash("sha256").update(leaf.raw).update(xml).digest("hex");
  let outcome = signatureMemo.get(memoKey);
  if (!outcome) {
    try {
      const sig = rimSignedXml(leaf.toString());
      sig.loadSignature(sigNode as unknown as Node);
      if (!sig.checkSignature(xml)) throw new Error("signature does not verify");
      const signed = sig.getSignedReferences();
      if (signed.length !== 1 || signed[0] === undefined) throw new Error("expected exactly one signed reference (the whole document)");
      outcome = { reference: parseRimXml(signed[0]) };
    } catch (e) {
      outcome = { error: e instanceof Error ? e.message : "signature does not verify" };
    }
    if (signatureMemo.size >= 64) signatureMemo.clear();
    signatureMemo.set(memoKey, outcome);
  }
  const reference = "reference" in outcome ? outcome.reference : null;
  if (reference) checks.pass("RIM signature (XMLDSig ECDSA-SHA384)", `${reference.measurements.length} measurements`);
  else checks.fail("RIM signature (XMLDSig ECDSA-SHA384)", AttestCode.RIM_SIGNATURE_INVALID, "error" in outcome ? outcome.error : "signature does not verify");
  const simulated = chain.ok && !parseRoots([NVIDIA_RIM_ROOT_PEM]).some((r) => r.raw.equals(chain.anchor.raw));
  return { ...checks.toVerification({ tee: "nvidia-gpu", simulated }), reference };
}

const signatureMemo = new Map<string, { reference: RimReference } | { error: string }>();
