/**
 * Unchecked must not read as verified (issue 7, item 14). A check that could not run is
 * recorded as skipped and never ok; when it leaves one of the named items open (TCB
 * status, GPU RIM comparison, GPU OCSP), verification fails with that item's own code
 * unless the caller accepted the item by name (`--accept-unchecked tcb`, policy
 * `acceptUnchecked`). Accepting is a decision the caller makes and can be seen making.
 */
import { AttestCode } from "../codes.js";
import { UNCHECKED_ITEMS, type Check, type UncheckedItem, type Verification } from "../types.js";

const CODE: Readonly<Record<UncheckedItem, string>> = {
  tcb: AttestCode.TCB_UNCHECKED,
  "gpu-rim": AttestCode.RIM_UNCHECKED,
  "gpu-ocsp": AttestCode.OCSP_UNCHECKED,
};

const WHAT: Readonly<Record<UncheckedItem, string>> = {
  tcb: "the platform's TCB status could not be established (no Intel collateral / AMD CRL): an out-of-date or revoked platform would look the same",
  "gpu-rim": "the GPU measurements were not compared with NVIDIA's signed reference values (RIMs): every firmware or driver would look the same",
  "gpu-ocsp": "the GPU certificates' revocation was not checked (NVIDIA OCSP): a revoked GPU would look the same",
};

export function isUncheckedItem(v: string): v is UncheckedItem {
  return (UNCHECKED_ITEMS as readonly string[]).includes(v);
}

/** Adds one failure per unaccepted open item (and one note per accepted one); never removes a check. */
export function enforceUnchecked<V extends Verification>(v: V, accepted: readonly UncheckedItem[]): V {
  const open = new Set<UncheckedItem>();
  for (const c of v.checks) if (c.skipped && c.unchecked) open.add(c.unchecked);
  if (open.size === 0) return v;
  const checks: Check[] = [...v.checks];
  const errors = [...v.errors];
  for (const item of UNCHECKED_ITEMS) {
    if (!open.has(item)) continue;
    const name = `unchecked: ${item}`;
    if (accepted.includes(item)) {
      checks.push({ name, ok: false, skipped: true, detail: `accepted by the caller (--accept-unchecked ${item}): ${WHAT[item]}` });
    } else {
      const message = `${WHAT[item]}; refusing (accept it explicitly with --accept-unchecked ${item} or the policy's acceptUnchecked)`;
      checks.push({ name, ok: false, code: CODE[item], detail: message });
      errors.push({ code: CODE[item], message });
    }
  }
  return { ...v, checks, errors, verified: v.verified && errors.length === v.errors.length };
}
