/**
 * The GPU checks that need NVIDIA's signed references, which the node serves beside its
 * report (docs/protocol.md, "Collateral"): every GPU's measurements against its driver and
 * VBIOS RIMs (XMLDSig under NVIDIA's RIM root), and every device certificate below the
 * root against an OCSP answer. Missing references leave the check unchecked by name
 * (`gpu-rim`, `gpu-ocsp`), which fails verification unless the caller accepts it.
 */
import type { X509Certificate } from "node:crypto";
import { z } from "zod";
import { AttestCode } from "../codes.js";
import { checkOcsp, parseOcspResponse, type OcspResponse } from "../nvidia/ocsp.js";
import { compareRim, measurementsFromEvidence } from "../nvidia/rim-compare.js";
import { verifyRim, type RimReference } from "../nvidia/rim.js";
import { NVIDIA_DEVICE_ROOT_PEM, NVIDIA_RIM_ROOT_PEM } from "../nvidia/roots.js";
import { parseSpdmEvidence } from "../nvidia/spdm.js";
import { parseRoots, splitPemChain } from "../nvidia/x509.js";
import { SIMULATED_GPU_ROOTS_PEM } from "../simulator/roots.js";
import { fromHex, utf8 } from "../../util/bytes.js";
import type { ReportState } from "./result.js";

export interface GpuReferences {
  /** Per GPU, in evidence_list order. */
  readonly rims: readonly { readonly driver: string; readonly vbios: string }[] | null;
  /** Hex DER OCSP answers, any order. */
  readonly ocsp: readonly string[] | null;
}

const Item = z.object({ certificate: z.string(), evidence: z.string() });
const Payload = z.object({ evidence_list: z.array(Item) });

function pemOf(field: string): string {
  return field.includes("-----BEGIN CERTIFICATE-----") ? field : utf8.decode(new Uint8Array(Buffer.from(field, "base64")));
}

export function checkGpuReferences(s: ReportState, payloadJson: string, refs: GpuReferences, now: Date, prefix: string): void {
  let items: z.infer<typeof Payload>["evidence_list"];
  try {
    items = Payload.parse(JSON.parse(payloadJson)).evidence_list;
  } catch {
    return; // the payload check already failed it
  }
  const deviceRoots = parseRoots([NVIDIA_DEVICE_ROOT_PEM, ...SIMULATED_GPU_ROOTS_PEM]);
  let answers: OcspResponse[] = [];
  const unreadable: string[] = [];
  for (const [i, hex] of (refs.ocsp ?? []).entries()) {
    try {
      answers.push(parseOcspResponse(fromHex(hex)));
    } catch {
      unreadable.push(String(i));
    }
  }
  if (unreadable.length) s.list.fail(`${prefix}: OCSP answers parse`, AttestCode.OCSP_INVALID, `OCSP answers ${unreadable.join(", ")} are not DER OCSP responses`);
  if (refs.ocsp === null) answers = [];

  items.forEach((item, i) => {
    const g = `${prefix}: gpu${i}`;
    let chain: X509Certificate[] = [];
    let evidence: Uint8Array;
    try {
      chain = splitPemChain(pemOf(item.certificate));
      evidence = new Uint8Array(Buffer.from(item.evidence, "base64"));
    } catch {
      return;
    }
    // RIM comparison: the golden set is the active measurements of the driver and VBIOS RIMs.
    const rim = refs.rims?.[i];
    if (!rim) {
      s.list.notChecked(`${g}: RIM comparison`, "the node served no signed RIMs for this GPU", "gpu-rim");
    } else {
      const refsOk: RimReference[] = [];
      for (const [kind, xml] of [["driver", rim.driver], ["VBIOS", rim.vbios]] as const) {
        // NVIDIA's RIM root, or the simulated GPU root (which marks the report simulated).
        const v = verifyRim(xml, { trustedRootsPem: [NVIDIA_RIM_ROOT_PEM, ...SIMULATED_GPU_ROOTS_PEM], now });
        if (v.simulated) s.simulated = true;
        s.list.merge(v, `${g}: ${kind} RIM`);
        if (v.reference && v.errors.length === 0) refsOk.push(v.reference);
      }
      if (refsOk.length === 2) {
        try {
          const cmp = compareRim(refsOk, measurementsFromEvidence(parseSpdmEvidence(evidence)));
          if (cmp.issue) s.list.fail(`${g}: RIM comparison`, cmp.issue.code, cmp.issue.message);
          else s.list.pass(`${g}: RIM comparison`, `${cmp.compared.length} measurements equal the signed reference values`);
        } catch {
          // unreadable evidence: already failed by the SPDM check
        }
      }
    }
    // OCSP: every certificate below the top of the chain needs a current, signed "good".
    if (answers.length === 0) {
      s.list.notChecked(`${g}: certificate revocation (OCSP)`, "the node served no OCSP answers", "gpu-ocsp");
      return;
    }
    const open: string[] = [];
    for (let j = 0; j + 1 < chain.length; j++) {
      const verdict = checkOcsp(chain[j] as X509Certificate, chain[j + 1] as X509Certificate, answers, deviceRoots, now);
      if (verdict.ok) continue;
      if (verdict.revoked) {
        s.list.fail(`${g}: certificate revocation (OCSP)`, AttestCode.CERT_REVOKED, verdict.message);
        return;
      }
      open.push(`certificate ${j}: ${verdict.message}`);
    }
    if (open.length) s.list.notChecked(`${g}: certificate revocation (OCSP)`, open.join("; "), "gpu-ocsp");
    else s.list.pass(`${g}: certificate revocation (OCSP)`, `${chain.length - 1} certificate(s) good`);
  });
}
