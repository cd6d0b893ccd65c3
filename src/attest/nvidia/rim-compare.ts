/**
 * Compares a GPU's runtime measurements with reference values, the way nvtrust's verifier
 * does: the active measurements of the driver RIM and the VBIOS RIM together form the
 * golden set (an index active in both is a conflict), and each golden index must be
 * present at runtime with one of its alternatives.
 */
import { AttestCode } from "../codes.js";
import type { VerificationIssue } from "../types.js";
import type { RimReference } from "./rim.js";
import type { SpdmEvidence } from "./spdm.js";

export interface RimComparison {
  readonly ok: boolean;
  /** Golden indices that were compared, ascending. */
  readonly compared: readonly number[];
  /** Indices whose runtime value is none of the alternatives (or absent). */
  readonly mismatched: readonly number[];
  /** Indices active in more than one RIM. */
  readonly conflicts: readonly number[];
  readonly issue: VerificationIssue | null;
}

export type RuntimeMeasurements = ReadonlyMap<number, string> | Readonly<Record<number, string>>;

/**
 * Runtime measurements keyed by RIM index (lower-case hex) from parsed evidence. SPDM block
 * indices start at 1 and RIM indices at 0 (nvtrust: measurement_list[index - 1]), so SPDM
 * block N is RIM index N - 1.
 */
export function measurementsFromEvidence(ev: SpdmEvidence): Map<number, string> {
  return new Map(ev.response.blocks.map((b) => [b.index - 1, Buffer.from(b.value).toString("hex")]));
}

function lookup(m: RuntimeMeasurements, index: number): string | undefined {
  const v = m instanceof Map ? m.get(index) : (m as Readonly<Record<number, string>>)[index];
  return v?.toLowerCase();
}

export function compareRim(reference: RimReference | readonly RimReference[], measurements: RuntimeMeasurements): RimComparison {
  const refs: readonly RimReference[] = Array.isArray(reference) ? reference : [reference as RimReference];
  const golden = new Map<number, readonly string[]>();
  const conflicts: number[] = [];
  for (const ref of refs) {
    for (const m of ref.measurements) {
      if (!m.active) continue;
      if (golden.has(m.index)) conflicts.push(m.index);
      else golden.set(m.index, m.alternatives);
    }
  }
  const compared = [...golden.keys()].sort((a, b) => a - b);
  const mismatched = compared.filter((i) => {
    const got = lookup(measurements, i);
    return got === undefined || !(golden.get(i) ?? []).includes(got);
  });
  const ok = mismatched.length === 0 && conflicts.length === 0;
  const parts: string[] = [];
  if (mismatched.length) parts.push(`${mismatched.length} of ${compared.length} indices differ from the reference: ${mismatched.join(", ")}`);
  if (conflicts.length) parts.push(`indices active in more than one RIM: ${conflicts.join(", ")}`);
  return { ok, compared, mismatched, conflicts, issue: ok ? null : { code: AttestCode.RIM_MISMATCH, message: parts.join("; ") } };
}
