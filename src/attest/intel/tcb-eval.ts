/**
 * Our own TCB status evaluation for SGX and TDX (TD 1.0 and TD 1.5), so a quote the DCAP
 * library cannot decode (v5 TD 1.5 bodies with @phala/dcap-qvl-web 0.3.3) is still judged in
 * full, and the library's verdict on the others can be cross-checked.
 *
 * The algorithm follows Intel's "SGX and TDX PCS API" v4 (TCB Info v3 for TDX, Enclave
 * Identity v2) and Intel's Quote Verification Library (QVL):
 *  - platform level: the first TCB level (newest first) whose SGX component SVNs and PCESVN
 *    are <= the PCK certificate's and, for TDX, whose tdxtcbcomponents are <= TEE_TCB_SVN.
 *    When the TDX module major version (TEE_TCB_SVN[1]) is > 0, bytes 0 and 1 belong to the
 *    TDX module and are rated through tdxModuleIdentities instead, so comparison starts at
 *    index 2 (QVL TcbLevelCheck / TdxModuleCheck).
 *  - TDX module: its identity is `TDX_<major, 2 hex digits>` in tdxModuleIdentities (the
 *    top-level tdxModule when major is 0); MRSIGNERSEAM must equal its mrsigner and
 *    SEAMATTRIBUTES & attributesMask its attributes; its status is the first of its TCB
 *    levels whose isvsvn <= TEE_TCB_SVN[0] (the module's minor SVN).
 *  - QE: the first QE Identity TCB level whose isvsvn <= the QE report's ISVSVN.
 *  - convergence (QVL convergeTcbStatuses): a Revoked component makes the result Revoked; an
 *    OutOfDate component turns UpToDate/SWHardeningNeeded into OutOfDate and
 *    ConfigurationNeeded/ConfigurationAndSWHardeningNeeded into OutOfDateConfigurationNeeded.
 *  - TD 1.5 (v5, body type 3): TEE_TCB_SVN is evaluated as the TCB the TD was launched under
 *    and TEE_TCB_SVN2 as the TDX module now running; when launch is out of date but the
 *    current one is not, the status becomes TDRelaunchAdvised(ConfigurationNeeded) (QVL
 *    TDRelaunchCheck). Advisories are the union of every level used.
 */
import { AttestationError } from "../../errors.js";
import { toHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import type { PckExtensions } from "./pck-extensions.js";
import type { ParsedQuote, SgxReportBody, TdReportBody } from "./quote-types.js";
import type { QeIdentity, TcbInfo, TdxModuleIdentity } from "./signed-collateral.js";

export interface LevelStatus {
  readonly status: string;
  readonly advisoryIds: readonly string[];
}

export interface TcbEvaluation extends LevelStatus {
  readonly platform: LevelStatus;
  readonly qe: LevelStatus;
  /** TDX with module major version > 0 only. */
  readonly tdxModule: LevelStatus | null;
  /** TD 1.5 only: the evaluation of TEE_TCB_SVN2 (the module now running). */
  readonly current: LevelStatus | null;
}

const fail = (code: string, msg: string): never => {
  throw new AttestationError(code, msg);
};

/** The full evaluation; throws TCB_LEVEL_NOT_FOUND, TDX_MODULE_MISMATCH or QE_IDENTITY_MISMATCH. */
export function evaluateTcb(info: TcbInfo, qeId: QeIdentity, pck: PckExtensions, q: ParsedQuote): TcbEvaluation {
  const qe = qeTcbStatus(qeId, q.signatureData.certification.qeReport);
  if (q.body.kind === "sgx") {
    const platform = platformLevel(info, pck, null);
    return { ...converge(platform, [qe]), platform, qe, tdxModule: null, current: null };
  }
  const td = q.body;
  checkTdxModuleIdentity(info, td);
  const launch = evaluateTd(info, pck, td.teeTcbSvn, qe);
  if (td.kind !== "td15" || !td.teeTcbSvn2) return { ...launch.result, platform: launch.platform, qe, tdxModule: launch.module, current: null };
  const now = evaluateTd(info, pck, td.teeTcbSvn2, qe);
  const status = relaunch(launch.result.status, now.result.status);
  return {
    status,
    advisoryIds: union(launch.result, now.result),
    platform: launch.platform,
    qe,
    tdxModule: launch.module,
    current: now.result,
  };
}

function evaluateTd(info: TcbInfo, pck: PckExtensions, svn: Uint8Array, qe: LevelStatus): { result: LevelStatus; platform: LevelStatus; module: LevelStatus | null } {
  const platform = platformLevel(info, pck, svn);
  const major = svn[1] ?? 0;
  const module = major > 0 ? moduleLevel(info, major, svn[0] ?? 0) : null;
  return { result: converge(platform, module ? [module, qe] : [qe]), platform, module };
}

/** The platform TCB level (first match, newest first); TEE_TCB_SVN null for SGX. */
export function platformLevel(info: TcbInfo, pck: PckExtensions, teeTcbSvn: Uint8Array | null): LevelStatus {
  const start = teeTcbSvn && (teeTcbSvn[1] ?? 0) > 0 ? 2 : 0;
  for (const level of info.tcbLevels) {
    const t = level.tcb;
    if (pck.pceSvn < t.pcesvn) continue;
    if (!t.sgxtcbcomponents.every((c, i) => (pck.sgxTcbComponents[i] ?? 0) >= c.svn)) continue;
    if (teeTcbSvn) {
      const tdx = t.tdxtcbcomponents;
      if (!tdx || !tdx.every((c, i) => i < start || (teeTcbSvn[i] ?? 0) >= c.svn)) continue;
    }
    return { status: level.tcbStatus, advisoryIds: level.advisoryIDs ?? [] };
  }
  return fail(
    AttestCode.TCB_LEVEL_NOT_FOUND,
    `no TCB level in TCB Info (FMSPC ${info.fmspc}) fits this platform's SVNs (PCK SGX components ${pck.sgxTcbComponents.join(".")}, PCESVN ${pck.pceSvn})${teeTcbSvn ? ` and TEE_TCB_SVN ${toHex(teeTcbSvn)}` : ""}`,
  );
}

function moduleIdentity(info: TcbInfo, major: number): TdxModuleIdentity {
  const id = `TDX_${major.toString(16).padStart(2, "0")}`.toUpperCase();
  const found = info.tdxModuleIdentities?.find((m) => m.id.toUpperCase() === id);
  return found ?? fail(AttestCode.TDX_MODULE_MISMATCH, `TCB Info has no TDX module identity ${id} for this TDX module (major version ${major})`);
}

function moduleLevel(info: TcbInfo, major: number, minorSvn: number): LevelStatus {
  const m = moduleIdentity(info, major);
  const level = m.tcbLevels.find((l) => minorSvn >= l.tcb.isvsvn);
  if (!level) return fail(AttestCode.TCB_LEVEL_NOT_FOUND, `no TCB level of TDX module ${m.id} fits its SVN ${minorSvn}`);
  return { status: level.tcbStatus, advisoryIds: level.advisoryIDs ?? [] };
}

/** MRSIGNERSEAM and SEAMATTRIBUTES against the module identity (QVL TdxModuleCheck). */
export function checkTdxModuleIdentity(info: TcbInfo, td: TdReportBody): void {
  const major = td.teeTcbSvn[1] ?? 0;
  const want = major > 0 ? moduleIdentity(info, major) : info.tdxModule;
  if (!want) return fail(AttestCode.TDX_MODULE_MISMATCH, "TCB Info has no tdxModule: it is not TDX TCB Info v3");
  if (toHex(td.mrSignerSeam) !== want.mrsigner.toLowerCase()) fail(AttestCode.TDX_MODULE_MISMATCH, "MRSIGNERSEAM is not the TDX module signer in TCB Info");
  const mask = hexBytes(want.attributesMask);
  const attrs = hexBytes(want.attributes);
  if (!td.seamAttributes.every((b, i) => (b & (mask[i] ?? 0)) === ((attrs[i] ?? 0) & (mask[i] ?? 0)))) {
    fail(AttestCode.TDX_MODULE_MISMATCH, "SEAMATTRIBUTES do not match the TDX module identity in TCB Info");
  }
}

/** The QE's TCB status: first level whose isvsvn <= the QE report's ISVSVN. */
export function qeTcbStatus(id: QeIdentity, qe: SgxReportBody): LevelStatus {
  const level = id.tcbLevels.find((l) => qe.isvSvn >= l.tcb.isvsvn);
  if (!level) return fail(AttestCode.QE_IDENTITY_MISMATCH, `the quoting enclave's ISVSVN ${qe.isvSvn} is below every TCB level of Intel's QE Identity`);
  return { status: level.tcbStatus, advisoryIds: level.advisoryIDs ?? [] };
}

export function converge(platform: LevelStatus, components: readonly LevelStatus[]): LevelStatus {
  let status = platform.status;
  const s = components.map((c) => c.status);
  if (s.includes("OutOfDate")) {
    if (status === "UpToDate" || status === "SWHardeningNeeded") status = "OutOfDate";
    else if (status === "ConfigurationNeeded" || status === "ConfigurationAndSWHardeningNeeded") status = "OutOfDateConfigurationNeeded";
  }
  if (s.includes("Revoked")) status = "Revoked";
  return { status, advisoryIds: union(platform, ...components) };
}

const CONFIG = new Set(["ConfigurationNeeded", "OutOfDateConfigurationNeeded", "ConfigurationAndSWHardeningNeeded"]);

/** QVL TDRelaunchCheck: launched out of date, running a module that is not. */
export function relaunch(launch: string, current: string): string {
  const launchOld = launch === "OutOfDate" || launch === "OutOfDateConfigurationNeeded";
  const currentOk = ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded"].includes(current);
  if (!launchOld || !currentOk) return launch;
  return CONFIG.has(launch) || CONFIG.has(current) ? "TDRelaunchAdvisedConfigurationNeeded" : "TDRelaunchAdvised";
}

function union(...levels: readonly LevelStatus[]): string[] {
  const out: string[] = [];
  for (const l of levels) for (const a of l.advisoryIds) if (!out.includes(a)) out.push(a);
  return out;
}

function hexBytes(h: string): number[] {
  return (h.match(/../g) ?? []).map((x) => parseInt(x, 16));
}
