/**
 * Judging evidence against a policy is a separate step from verifying it (sigstore-js's
 * split): applyPolicy takes a Verification that says what the hardware signed and adds
 * the policy's verdicts as checks, never removing one.
 */
import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";
import { CheckList, type Verification } from "../types.js";
import type { Policy } from "./schema.js";
import { verifySigstoreRelease } from "./sigstore.js";

export interface ApplyPolicyOptions {
  /** Overrides policy.allowSimulated (the CLI's --allow-simulated). */
  readonly allowSimulated?: boolean;
  /** Where relative paths in the policy (sigstore bundle, trusted root) resolve. */
  readonly baseDir?: string;
}

export function applyPolicy(v: Verification, policy: Policy, opts: ApplyPolicyOptions = {}): Verification {
  const list = new CheckList();
  const has = (code: string): boolean => v.errors.some((e) => e.code === code);

  const allowSimulated = opts.allowSimulated ?? policy.allowSimulated ?? false;
  if (v.simulated && !allowSimulated && !has(AttestCode.SIMULATED_NOT_ALLOWED)) {
    list.fail("policy: simulated evidence", AttestCode.SIMULATED_NOT_ALLOWED, "the evidence comes from the Cloister simulator and the policy does not allow it");
  }

  if (v.tcbStatus === null) {
    if (policy.requireTcbStatus) list.fail("policy: TCB status", AttestCode.TCB_STATUS_NOT_ALLOWED, "the TCB status was not checked (no collateral) and the policy requires it");
    else if (!v.simulated) list.notChecked("policy: TCB status", "not known without collateral; the policy's allowed statuses were not applied");
  } else if (policy.tcbStatuses.includes(v.tcbStatus)) {
    list.pass("policy: TCB status", v.tcbStatus);
  } else {
    list.fail("policy: TCB status", AttestCode.TCB_STATUS_NOT_ALLOWED, `TCB status ${v.tcbStatus} is not one of ${policy.tcbStatuses.join(", ")}`);
  }

  for (const [name, allowed] of Object.entries(policy.measurements ?? {})) {
    if (!allowed) continue;
    const actual = v.measurements[name];
    if (actual === undefined) {
      list.fail(`policy: ${name}`, AttestCode.POLICY_VIOLATION, `the policy lists allowed ${name} values but the evidence has no ${name}`);
    } else if (allowed.includes(actual)) {
      list.pass(`policy: ${name}`, "allowed");
    } else {
      list.fail(`policy: ${name}`, AttestCode.MEASUREMENT_NOT_ALLOWED, `${name} ${actual} is not in the policy's allowed list`);
    }
  }

  if (policy.gpu?.required) {
    const gpuSeen = Object.keys(v.measurements).some((k) => k.startsWith("gpu"));
    if (gpuSeen && !v.errors.some((e) => e.code.startsWith("GPU_"))) list.pass("policy: GPU evidence present");
    else list.fail("policy: GPU evidence present", AttestCode.POLICY_VIOLATION, "the policy requires verified GPU evidence and there is none");
  }
  if (policy.gpu?.claims) {
    list.notChecked("policy: GPU claims", "measres/secboot/dbgstat are NRAS appraisals: enforced when an NRAS response is verified, not on local SPDM evidence");
  }

  if (policy.sigstore) checkSigstore(v, policy, opts.baseDir, list);

  return {
    ...v,
    verified: v.verified && list.ok,
    checks: [...v.checks, ...list.checks],
    errors: [...v.errors, ...list.errors],
  };
}

function checkSigstore(v: Verification, policy: Policy, baseDir: string | undefined, list: CheckList): void {
  const sp = policy.sigstore;
  if (!sp) return;
  try {
    const r = verifySigstoreRelease(sp, baseDir);
    list.pass("policy: sigstore release signature", `${r.subjectAlternativeName ?? "unknown signer"} (${r.issuer ?? "unknown issuer"})`);
    let compared = 0;
    for (const [name, signed] of Object.entries(r.measurements)) {
      const actual = v.measurements[name];
      if (actual === undefined) continue;
      compared++;
      if (actual === signed) list.pass(`policy: ${name} is the signed release's`);
      else list.fail(`policy: ${name} is the signed release's`, AttestCode.MEASUREMENT_NOT_ALLOWED, `${name} ${actual} is not the signed release's ${signed}`);
    }
    if (compared === 0) list.fail("policy: sigstore release measurement", AttestCode.POLICY_VIOLATION, "the signed release names no measurement this evidence has");
  } catch (e) {
    const code = e instanceof AttestationError ? e.code : AttestCode.SIGSTORE_INVALID;
    list.fail("policy: sigstore release signature", code, e instanceof Error ? e.message : String(e));
  }
}
