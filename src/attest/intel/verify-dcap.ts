/**
 * verifyDcapQuote: full DCAP verification with collateral. Our own checks run first, in
 * an order chosen so each kind of tampering is named by its own code (the first error):
 *   1. quote parses                        QUOTE_MALFORMED / QUOTE_VERSION_UNSUPPORTED
 *   2. collateral shape                    COLLATERAL_INVALID
 *   3. TCB Info / QE Identity windows      COLLATERAL_NOT_YET_VALID / COLLATERAL_EXPIRED
 *   4. TCB Info / QE Identity signatures   COLLATERAL_SIGNATURE_INVALID (FOREIGN_ROOT)
 *   5. CRL signatures, then freshness      CRL_INVALID, CRL_STALE
 *   6. quote signatures (verify-signatures) CERT_CHAIN_INVALID, FOREIGN_ROOT, QE_REPORT_INVALID, QUOTE_SIGNATURE_INVALID
 *   7. PCK leaf / CA revoked               CERT_REVOKED
 *   8. collateral fits platform, QE identity, TCB level   COLLATERAL_INVALID, QE_IDENTITY_MISMATCH, TCB_LEVEL_NOT_FOUND
 * and only when all pass, dcap-qvl (WASM) computes the TCB status and advisories the
 * Intel QVL way; its refusal is mapped to a code too.
 */
import type { X509Certificate } from "node:crypto";
import { AttestationError } from "../../errors.js";
import { fromHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { CheckList, type Verification } from "../types.js";
import { parsePemChain, trustedRoots, spkiSha256 } from "./certs.js";
import { parseCollateral, type Collateral } from "./collateral.js";
import { checkCrlFresh, parseCrl, serialHex, verifyCrlSignature, type Crl } from "./crl.js";
import { codeForQvlError, qvlVerify } from "./dcap-wasm.js";
import { pckExtensions } from "./pck-extensions.js";
import { checkSignedJson, checkWindow, parseSignedJson, QeIdentitySchema, TcbInfoSchema, type QeIdentity, type TcbInfo } from "./signed-collateral.js";
import { checkQuoteSignatures, failWith } from "./signatures.js";
import { checkQeIdentity, checkTcbInfoFits, matchTcbLevel } from "./tcb-level.js";
import { parseOrFail, unparsed, verificationOf } from "./verify-signatures.js";

export interface DcapOptions {
  readonly collateral: Collateral;
  readonly now: Date;
  /** Default: Intel SGX Root CA. dcap-qvl itself always trusts only Intel's root. */
  readonly trustedRootsPem?: readonly string[];
}

/** Runs fn as one named check; returns its value, or undefined when it failed. */
function step<T>(list: CheckList, name: string, fn: () => T, detail?: (v: T) => string): T | undefined {
  try {
    const v = fn();
    list.pass(name, detail?.(v));
    return v;
  } catch (e) {
    failWith(list, name, e, AttestCode.DCAP_VERIFICATION_FAILED);
    return undefined;
  }
}

export function verifyDcapQuote(bytes: Uint8Array, options: DcapOptions): Verification {
  const { now } = options;
  const list = new CheckList();
  const q = parseOrFail(bytes, list);
  if (!q) return unparsed(bytes, list);
  const col = step(list, "collateral is DCAP JSON", () => parseCollateral(options.collateral));
  if (!col) return verificationOf(q, list, null, [], false);
  const roots = trustedRoots(options.trustedRootsPem);

  const tcbInfo = step(list, "TCB Info readable", () => parseSignedJson(TcbInfoSchema, col.tcb_info, "TCB Info"));
  const qeId = step(list, "QE Identity readable", () => parseSignedJson(QeIdentitySchema, col.qe_identity, "QE Identity"));
  if (tcbInfo) step(list, "TCB Info is current", () => checkWindow(tcbInfo, now, "TCB Info"));
  if (qeId) step(list, "QE Identity is current", () => checkWindow(qeId, now, "QE Identity"));
  step(list, "TCB Info signature", () => checkSignedJson(col.tcb_info, col.tcb_info_signature, col.tcb_info_issuer_chain, roots, now, "TCB Info"));
  step(list, "QE Identity signature", () =>
    checkSignedJson(col.qe_identity, col.qe_identity_signature, col.qe_identity_issuer_chain, roots, now, "QE Identity"),
  );

  const crls = step(list, "CRL signatures", () => checkCrlSignatures(col, roots));
  if (crls) {
    step(list, "root CA CRL is current", () => checkCrlFresh(crls.root, now, "root CA CRL"));
    step(list, "PCK CRL is current", () => checkCrlFresh(crls.pck, now, "PCK CRL"));
  }

  const sig = checkQuoteSignatures(q, roots, now, list);
  const leaf = sig.pckCerts[0];
  const ca = sig.pckCerts[1];
  if (crls && leaf && ca) step(list, "PCK certificates not revoked", () => checkRevocation(crls, leaf, ca));
  const pck = leaf ? step(list, "PCK SGX extensions", () => pckExtensions(leaf), (p) => `FMSPC ${p.fmspc}`) : undefined;
  if (tcbInfo && pck) step(list, "TCB Info is for this platform", () => checkTcbInfoFits(tcbInfo, pck, q));
  if (qeId) step(list, "QE identity", () => checkQeIdentity(qeId, q.signatureData.certification.qeReport));
  // dcap-qvl merges this platform status with the QE's; the detail records ours alone.
  if (tcbInfo && pck) step(list, "TCB level", () => matchTcbLevel(tcbInfo, pck, q), (m) => `platform ${m.tcbStatus}`);

  if (!list.ok) {
    list.skip("dcap-qvl verification", "not run: earlier checks failed");
    return verificationOf(q, list, null, [], false);
  }
  const r = qvlVerify(bytes, col, now.getTime() / 1000);
  if ("error" in r) {
    list.fail("dcap-qvl verification", codeForQvlError(r.error), `dcap-qvl: ${r.error}`);
    return verificationOf(q, list, null, [], false);
  }
  list.pass("dcap-qvl verification", `${r.status}${r.advisoryIds.length ? ` (${r.advisoryIds.join(", ")})` : ""}`);
  const simulated = sig.chain !== null && !sig.chain.intel;
  return verificationOf(q, list, r.status, r.advisoryIds, simulated);
}

export interface Crls {
  readonly root: Crl;
  readonly pck: Crl;
  readonly pckIssuer: X509Certificate;
}

/** root_ca_crl by a trusted root; pck_crl by the PCK CA of pck_crl_issuer_chain, itself under that root. */
function checkCrlSignatures(col: Collateral, roots: readonly X509Certificate[]): Crls {
  try {
    return checkCrlSignaturesUnsafe(col, roots);
  } catch (e) {
    if (e instanceof AttestationError) throw e;
    throw new AttestationError(AttestCode.CRL_INVALID, "a CRL or its issuer certificate is corrupted", { cause: e });
  }
}

function checkCrlSignaturesUnsafe(col: Collateral, roots: readonly X509Certificate[]): Crls {
  const root = parseCrl(fromHex(col.root_ca_crl), "root CA CRL");
  const pck = parseCrl(fromHex(col.pck_crl), "PCK CRL");
  const rootSigner = roots.find((r) => {
    try {
      verifyCrlSignature(root, r, "root CA CRL");
      return true;
    } catch {
      return false;
    }
  });
  if (!rootSigner) throw new AttestationError(AttestCode.CRL_INVALID, "the root CA CRL is not signed by a trusted root");
  const chain = parsePemChain(col.pck_crl_issuer_chain, "PCK CRL issuer chain");
  const pckIssuer = chain[0] as X509Certificate;
  if (!pckIssuer.verify(rootSigner.publicKey)) {
    throw new AttestationError(AttestCode.CRL_INVALID, "the PCK CRL's issuer is not certified by the root");
  }
  verifyCrlSignature(pck, pckIssuer, "PCK CRL");
  return { root, pck, pckIssuer };
}

/** The PCK leaf must not be on the PCK CRL, its CA not on the root CRL; the PCK CRL must be its CA's. */
export function checkRevocation(crls: Crls, leaf: X509Certificate, ca: X509Certificate): void {
  if (spkiSha256(crls.pckIssuer) !== spkiSha256(ca)) {
    throw new AttestationError(AttestCode.CRL_INVALID, "the PCK CRL is from a different CA than the one that issued this PCK certificate");
  }
  if (crls.pck.revoked.has(normSerial(leaf.serialNumber))) {
    throw new AttestationError(AttestCode.CERT_REVOKED, `the PCK certificate (serial ${leaf.serialNumber}) is revoked`);
  }
  if (crls.root.revoked.has(normSerial(ca.serialNumber))) {
    throw new AttestationError(AttestCode.CERT_REVOKED, `the PCK CA certificate (serial ${ca.serialNumber}) is revoked`);
  }
}

function normSerial(hex: string): string {
  return serialHex(fromHex(hex.length % 2 ? `0${hex}` : hex));
}

export type { QeIdentity, TcbInfo };
