/**
 * Verifies an AMD SEV-SNP attestation report offline: VCEK/VLEK chain to AMD's ARK, the
 * report's ECDSA P-384 signature, the key's TCB and chip binding, the guest policy, and
 * (optionally) revocation. Appraising the measurement against an allow-list and the
 * report_data binding are policy steps for the caller (see ../binding.ts).
 */
import { verify as cryptoVerify, X509Certificate } from "node:crypto";
import type { Hex, Measurement } from "../../types.js";
import { AttestationError } from "../../errors.js";
import { concatBytes, equalBytes, toHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { CheckList, type Verification } from "../types.js";
import { splitPemChain } from "../nvidia/x509.js";
import { verifySnpChain } from "./chain.js";
import { checkCrl } from "./crl.js";
import { certParts } from "./der.js";
import { parseSnpReport, SNP_SIG_ALGO_ECDSA_P384_SHA384, type SnpReport } from "./report.js";
import { AMD_SNP_ROOTS, type SnpRootSet } from "./roots.js";
import { decodeTcb, formatTcb, type SnpProduct, type SnpTcb } from "./tcb.js";
import { readVcekExtensions } from "./vcek-ext.js";

export interface SnpVerifyOptions {
  /** The VCEK or VLEK alone (PEM). Either this or certChainPem. */
  readonly vcekPem?: string;
  /** VCEK/VLEK first, then optionally ASK/ASVK and ARK (PEM bundle). */
  readonly certChainPem?: string;
  readonly product?: SnpProduct;
  readonly now?: Date;
  /** The product's KDS CRL (DER), checked against the ASK and VCEK serials when given. */
  readonly crlDer?: Uint8Array;
  /** Trust anchors; defaults to AMD's embedded roots. Anything else marks the result simulated. */
  readonly roots?: readonly SnpRootSet[];
  /**
   * Highest VMPL the report may have been requested from (0..3, default 0). VMPL 0 is the
   * most privileged level; a report from VMPL 1-3 was asked for by code running under an
   * SVSM/paravisor at VMPL 0, which the measurement covers but this guest code does not
   * control (ABI 56860 rev 1.55, Table 22: VMPL at 0x30).
   */
  readonly maxVmpl?: number;
  /**
   * Accept guest policy MIGRATE_MA (bit 18): a migration agent may export the guest's
   * memory to another platform, beyond this report's chip (ABI 56860 "Guest Policy").
   */
  readonly allowMigrationAgent?: boolean;
}

export interface SnpVerification extends Verification {
  readonly report: SnpReport | null;
  readonly product: SnpProduct | null;
  /** REPORTED_TCB decoded for the product the chain proved. */
  readonly tcb: SnpTcb | null;
}

/** The bare signature check, exported for the benchmark's baseline. */
export function snpSignatureValid(report: SnpReport, key: X509Certificate["publicKey"]): boolean {
  try {
    return cryptoVerify("sha384", report.signedBytes, { key, dsaEncoding: "ieee-p1363" }, concatBytes(report.signatureR, report.signatureS));
  } catch {
    return false;
  }
}

function snpMeasurements(r: SnpReport): Record<string, Measurement> {
  const m = (b: Uint8Array): Measurement => toHex(b) as string as Measurement;
  return {
    measurement: m(r.measurement),
    host_data: m(r.hostData),
    id_key_digest: m(r.idKeyDigest),
    author_key_digest: m(r.authorKeyDigest),
    family_id: m(r.familyId),
    image_id: m(r.imageId),
  };
}

function checkTcbBinding(checks: CheckList, report: SnpReport, tcb: SnpTcb, leaf: X509Certificate): void {
  const ext = readVcekExtensions(leaf.raw);
  const wrong: string[] = [];
  const cmp = (name: string, cert: number | null, rep: number | null): void => {
    if (cert !== rep) wrong.push(`${name}: certificate ${String(cert)}, report ${String(rep)}`);
  };
  cmp("bootloader", ext.bootloader, tcb.bootloader);
  cmp("tee", ext.tee, tcb.tee);
  cmp("snp", ext.snp, tcb.snp);
  cmp("microcode", ext.microcode, tcb.microcode);
  if (tcb.fmc !== null) cmp("fmc", ext.fmc, tcb.fmc);
  if (wrong.length) checks.fail("key TCB = REPORTED_TCB", AttestCode.VCEK_MISMATCH, wrong.join("; "));
  else checks.pass("key TCB = REPORTED_TCB", formatTcb(tcb));

  if (report.signingKey === "vlek") checks.notChecked("key chip = CHIP_ID", "VLEKs are not bound to one chip");
  else if (report.maskChipKey) checks.notChecked("key chip = CHIP_ID", "the guest masked CHIP_ID (MASK_CHIP_KEY)");
  else if (ext.hwId && equalBytes(ext.hwId, report.chipId)) checks.pass("key chip = CHIP_ID");
  else checks.fail("key chip = CHIP_ID", AttestCode.VCEK_MISMATCH, "the VCEK was issued for another chip");
}

function checkVmpl(checks: CheckList, report: SnpReport, maxVmpl: number): void {
  if (report.vmpl <= maxVmpl) checks.pass("VMPL", `report requested from VMPL ${report.vmpl} (allowed up to ${maxVmpl})`);
  else checks.fail("VMPL", AttestCode.SNP_VMPL_NOT_ALLOWED, `report requested from VMPL ${report.vmpl}; the policy allows up to VMPL ${maxVmpl}`);
}

function checkPolicy(checks: CheckList, report: SnpReport, allowMigrationAgent: boolean): void {
  // Policy bit 19 (DEBUG): the hypervisor can read and write guest memory; nothing is private.
  if (report.policy.debug) checks.fail("guest policy: debug disabled", AttestCode.DEBUG_ENABLED, "policy bit 19 (DEBUG) is set");
  else checks.pass("guest policy: debug disabled", `policy 0x${report.policy.raw.toString(16)}`);
  // Bit 17 is reserved and must be one (Table "Guest Policy Structure"); firmware rejects launches otherwise.
  if (((report.policy.raw >> 17n) & 1n) !== 1n) checks.fail("guest policy: reserved bit 17", AttestCode.SNP_POLICY_INVALID, "policy bit 17 must be 1");
  // Bit 18 (MIGRATE_MA): a migration agent may move the guest, and its memory, off this chip.
  if (!report.policy.migrateMa) checks.pass("guest policy: no migration agent");
  else if (allowMigrationAgent) checks.pass("guest policy: no migration agent", "policy bit 18 (MIGRATE_MA) is set; allowed by the caller");
  else checks.fail("guest policy: no migration agent", AttestCode.SNP_POLICY_INVALID, "policy bit 18 (MIGRATE_MA) is set: a migration agent may move the guest off this chip");
}

function maxVmplOf(opts: SnpVerifyOptions): number {
  const v = opts.maxVmpl ?? 0;
  // A caller mistake, not bad evidence: refuse rather than silently widen or narrow the check.
  if (!Number.isInteger(v) || v < 0 || v > 3) throw new AttestationError(AttestCode.POLICY_INVALID, `maxVmpl must be an integer 0..3, got ${String(v)}`);
  return v;
}

export function verifySnpReport(reportBytes: Uint8Array, opts: SnpVerifyOptions): SnpVerification {
  const checks = new CheckList();
  const maxVmpl = maxVmplOf(opts);
  const now = opts.now ?? new Date();
  const roots = opts.roots ?? AMD_SNP_ROOTS;
  const sets = opts.product ? roots.filter((s) => s.product === opts.product) : roots;
  let report: SnpReport;
  try {
    report = parseSnpReport(reportBytes, opts.product);
    checks.pass("report parses", `version ${report.version}, signed by ${report.signingKey.toUpperCase()}`);
  } catch (e) {
    checks.fail("report parses", e instanceof Error && "code" in e ? String(e.code) : AttestCode.QUOTE_MALFORMED, e instanceof Error ? e.message : "unreadable report");
    return { ...checks.toVerification({ tee: "sev-snp" }), report: null, product: null, tcb: null };
  }

  let certs: X509Certificate[] = [];
  try {
    certs = splitPemChain(opts.vcekPem ?? opts.certChainPem ?? "");
  } catch {
    certs = [];
  }
  const leaf = certs[0];
  let product: SnpProduct | null = report.product ?? opts.product ?? null;
  let simulated = false;
  if (!leaf) {
    checks.fail("VCEK certificate chain", AttestCode.CERT_CHAIN_INVALID, "no readable VCEK/VLEK certificate given");
  } else {
    const vlek = report.signingKey === "vlek";
    const chain = verifySnpChain(leaf, certs.slice(1), sets, vlek, now);
    if (chain.ok) {
      if (report.product && report.product !== chain.product) {
        checks.fail("key product = CPUID product", AttestCode.VCEK_MISMATCH, `the report comes from a ${report.product} CPU, the key from ${chain.product}`);
      }
      product = chain.product;
      simulated = !AMD_SNP_ROOTS.some((s) => s.arkPem === chain.rootSet.arkPem);
      checks.pass("VCEK certificate chain", `${vlek ? "VLEK" : "VCEK"} -> ${vlek ? "ASVK" : "ASK"} -> ARK-${chain.product}`);
      if (opts.crlDer) {
        const parts = certParts(chain.ark.raw);
        const issue = parts ? checkCrl(opts.crlDer, { key: chain.ark.publicKey, subjectDer: parts.subjectDer }, [chain.intermediate.serialNumber, leaf.serialNumber], now) : { code: AttestCode.CRL_INVALID, message: "ARK unreadable" };
        if (issue) checks.fail("revocation (AMD KDS CRL)", issue.code, issue.message);
        else checks.pass("revocation (AMD KDS CRL)");
      } else {
        checks.notChecked("revocation (AMD KDS CRL)", "no AMD KDS CRL given: a revoked VCEK/ASK would not be noticed", "tcb");
      }
    } else {
      checks.fail("VCEK certificate chain", chain.code, chain.message);
    }
    if (report.signatureAlgo !== SNP_SIG_ALGO_ECDSA_P384_SHA384) checks.fail("report signature (ECDSA P-384)", AttestCode.REPORT_SIGNATURE_INVALID, `unknown SIGNATURE_ALGO ${report.signatureAlgo}`);
    else if (snpSignatureValid(report, leaf.publicKey)) checks.pass("report signature (ECDSA P-384)");
    else checks.fail("report signature (ECDSA P-384)", AttestCode.REPORT_SIGNATURE_INVALID, "the report is not signed by this VCEK/VLEK");
  }

  // Turin lays TCB_VERSION out differently; decode with the product the chain proved.
  const tcb = product ? decodeTcb(report.reportedTcb.raw, product) : report.reportedTcb;
  if (leaf) checkTcbBinding(checks, report, tcb, leaf);
  checkVmpl(checks, report, maxVmpl);
  checkPolicy(checks, report, opts.allowMigrationAgent ?? false);

  return {
    ...checks.toVerification({ tee: "sev-snp", simulated, measurements: snpMeasurements(report), reportData: toHex(report.reportData) as Hex }),
    report,
    product,
    tcb,
  };
}
