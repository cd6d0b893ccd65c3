import type { Hex } from "../../types.js";
import { fromHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { verifyNvidiaPayload } from "../nvidia/payload.js";
import { NVIDIA_DEVICE_ROOT_PEM } from "../nvidia/roots.js";
import { SIMULATED_GPU_ROOTS_PEM } from "../simulator/roots.js";
import { checkGpuReferences, type GpuReferences } from "./gpu-references.js";
import type { ReportState } from "./result.js";

/**
 * GPU evidence in NEAR's nvidia_payload form, verified locally (SPDM signature, device
 * chain, nonce). The simulated GPU root is recognised and marked like the simulated quote.
 */
export function checkGpuPayload(s: ReportState, payload: string, nonce: Hex | null, allowSimulated: boolean, now: Date, prefix?: string, refs: GpuReferences = { rims: null, ocsp: null }): void {
  const v = verifyNvidiaPayload(payload, {
    ...(nonce ? { expectedNonce: fromHex(nonce) } : {}),
    trustedRootsPem: [NVIDIA_DEVICE_ROOT_PEM, ...SIMULATED_GPU_ROOTS_PEM],
    now,
  });
  const p = prefix ? `${prefix}: GPU` : "GPU";
  s.list.merge(v, p);
  for (const [k, m] of Object.entries(v.measurements)) s.measurements[prefix ? `${prefix}.${k}` : k] = m;
  if (v.simulated) {
    s.simulated = true;
    if (!allowSimulated) s.list.fail(`${p}: not simulated`, AttestCode.SIMULATED_NOT_ALLOWED, "the GPU evidence is signed under the Cloister SIMULATED GPU root");
  }
  checkGpuReferences(s, payload, refs, now, p);
}
