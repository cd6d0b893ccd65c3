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
 *   8. collateral fits platform, QE identity      COLLATERAL_INVALID, QE_IDENTITY_MISMATCH
 *   9. not a debug TD / enclave                    DEBUG_ENABLED
 *  10. our own TCB evaluation (tcb-eval.ts)        TDX_MODULE_MISMATCH, TCB_LEVEL_NOT_FOUND
 * and only when all pass, dcap-qvl (WASM) computes the TCB status and advisories the
 * Intel QVL way; its refusal is mapped to a code too. Its verdict must equal ours
 * (TCB_CROSS_CHECK_FAILED otherwise). A v5 TD 1.5 quote, which dcap-qvl-web 0.3.3 cannot
 * decode, is judged by our evaluation alone, and the check list says so.
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
import { evaluateTcb, type TcbEvaluation } from "./tcb-eval.js";
import { checkQeIdentity, checkTcbInfoFits } from "./tcb-level.js";
import { checkNotDebug } from "./debug.js";
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
  step(list, "not debuggable", () => checkNotDebug(q));
  const ours = tcbInfo && qeId && pck ? step(list, "TCB level (own evaluation)", () => evaluateTcb(tcbInfo, qeId, pck, q), describe) : undefined;

  if (!list.ok || !ours) {
    list.notChecked("dcap-qvl verification", "not run: earlier checks failed");
    return verificationOf(q, list, null, [], false);
  }
  const simulated = sig.chain !== null && !sig.chain.intel;
  if (simulated) {
    // dcap-qvl trusts only Intel's root. Simulated collateral (src/attest/simulator/collateral.ts)
    // is judged by our own evaluation; the result stays marked simulated.
    list.notChecked("dcap-qvl verification", "SIMULATED quote and collateral: dcap-qvl trusts only Intel's root; TCB status is our own evaluation");
    return verificationOf(q, list, ours.status, ours.advisoryIds, true);
  }
  const r = qvlVerify(bytes, col, now.getTime() / 1000);
  if ("error" in r) {
    const code = codeForQvlError(r.error);
    // dcap-qvl-web 0.3.3 cannot decode TD 1.5 bodies: every check above has run, ours decides.
    if (code === AttestCode.QUOTE_VERSION_UNSUPPORTED && q.bodyType === 3) {
      list.notChecked("dcap-qvl verification", `dcap-qvl cannot decode a v${q.header.version} TD 1.5 quote; TCB status is our own evaluation`);
      return verificationOf(q, list, ours.status, ours.advisoryIds, simulated);
    }
    list.fail("dcap-qvl verification", code, `dcap-qvl: ${r.error}`);
    return verificationOf(q, list, null, [], false);
  }
  list.pass("dcap-qvl verification", `${r.status}${r.advisoryIds.length ? ` (${r.advisoryIds.join(", ")})` : ""}`);
  if (!sameVerdict(ours, r)) {
    list.fail(
      "TCB cross-check",
      AttestCode.TCB_CROSS_CHECK_FAILED,
      `dcap-qvl says ${r.status} [${r.advisoryIds.join(", ")}], our evaluation ${ours.status} [${ours.advisoryIds.join(", ")}]`,
    );
    return verificationOf(q, list, null, [], false);
  }
  list.pass("TCB cross-check", "dcap-qvl and our own evaluation agree");
  return verificationOf(q, list, r.status, r.advisoryIds, simulated);
}

function describe(e: TcbEvaluation): string {
  const parts = [`platform ${e.platform.status}`, `QE ${e.qe.status}`];
  if (e.tdxModule) parts.push(`TDX module ${e.tdxModule.status}`);
  if (e.current) parts.push(`running module ${e.current.status}`);
  return `${e.status} (${parts.join(", ")})${e.advisoryIds.length ? `; ${e.advisoryIds.join(", ")}` : ""}`;
}

function sameVerdict(a: { status: string; advisoryIds: readonly string[] }, b: { status: string; advisoryIds: readonly string[] }): boolean {
  const norm = (x: readonly string[]): string => [...new Set(x)].sort().join(",");
  return a.status === b.status && norm(a.advisoryIds) === norm(b.advisoryIds);
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
