import type { Hex, Measurement } from "../types.js";

/** The kinds of evidence `cloister verify` reports on (the `tee` field of its JSON). */
export type TeeKind = "tdx" | "sgx" | "sev-snp" | "nvidia-gpu" | "simulated";

/**
 * What could not be checked and fails verification unless the caller accepts it by name
 * (`--accept-unchecked tcb`, policy `acceptUnchecked`): the platform's TCB status (Intel
 * TCB Info / AMD KDS CRL), the GPU's reference measurements (NVIDIA RIMs) and the GPU
 * certificates' revocation (NVIDIA OCSP). docs/protocol.md, "Unchecked items".
 */
export const UNCHECKED_ITEMS = ["tcb", "gpu-rim", "gpu-ocsp"] as const;
export type UncheckedItem = (typeof UNCHECKED_ITEMS)[number];

/**
 * One line of the readable report. `skipped` means "could not be checked here", said
 * plainly; a skipped check is never `ok` (it did not pass). `unchecked` names the item a
 * skipped check leaves open, when it is one that fails unless accepted.
 */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly skipped?: boolean;
  readonly unchecked?: UncheckedItem;
  readonly detail?: string;
  readonly code?: string;
}

export interface VerificationIssue {
  readonly code: string;
  readonly message: string;
}

/**
 * The result of verifying one piece of evidence (or a whole report). Verifiers return
 * this rather than throwing for evidence that fails, so a caller always learns every
 * check that passed and every one that failed; they throw AttestationError only for
 * misuse (no evidence at all).
 */
export interface Verification {
  readonly verified: boolean;
  readonly tee: TeeKind;
  /** True when anything in the evidence came from the Cloister simulator. */
  readonly simulated: boolean;
  readonly tcbStatus: string | null;
  readonly advisories: readonly string[];
  /** Named registers: mrtd, rtmr0..3, mrseam, mrsignerseam, mrenclave, mrsigner, measurement (SNP), gpu0.index3... */
  readonly measurements: Readonly<Record<string, Measurement>>;
  readonly reportData: Hex | null;
  readonly checks: readonly Check[];
  readonly errors: readonly VerificationIssue[];
}

/** Collects checks and errors as a verifier goes, then freezes them into a Verification. */
export class CheckList {
  readonly checks: Check[] = [];
  readonly errors: VerificationIssue[] = [];

  pass(name: string, detail?: string): void {
    this.checks.push(detail === undefined ? { name, ok: true } : { name, ok: true, detail });
  }

  fail(name: string, code: string, message: string): void {
    this.checks.push({ name, ok: false, code, detail: message });
    this.errors.push({ code, message });
  }

  /** A check that could not run: not ok, and, when `item` is given, a failure unless the caller accepts that item. */
  notChecked(name: string, why: string, item?: UncheckedItem): void {
    this.checks.push(item ? { name, ok: false, skipped: true, unchecked: item, detail: why } : { name, ok: false, skipped: true, detail: why });
  }

  get ok(): boolean {
    return this.errors.length === 0;
  }

  /** Freezes the list into a Verification; `verified` is true only when nothing failed. */
  toVerification(fields: {
    tee: TeeKind;
    simulated?: boolean;
    tcbStatus?: string | null;
    advisories?: readonly string[];
    measurements?: Readonly<Record<string, Measurement>>;
    reportData?: Hex | null;
  }): Verification {
    return {
      verified: this.ok,
      tee: fields.tee,
      simulated: fields.simulated ?? false,
      tcbStatus: fields.tcbStatus ?? null,
      advisories: fields.advisories ?? [],
      measurements: fields.measurements ?? {},
      reportData: fields.reportData ?? null,
      checks: this.checks,
      errors: this.errors,
    };
  }

  merge(other: { checks: readonly Check[]; errors: readonly VerificationIssue[] }, prefix?: string): void {
    for (const c of other.checks) this.checks.push(prefix ? { ...c, name: `${prefix}: ${c.name}` } : c);
    for (const e of other.errors) this.errors.push(e);
  }
}
