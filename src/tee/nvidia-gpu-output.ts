/**
 * Turns what a GPU evidence collector prints into NEAR AI Cloud's `nvidia_payload`
 * (`{nonce, arch, evidence_list:[{certificate, evidence, arch}]}`, see
 * src/attest/nvidia/payload.ts). Three producers are in use on CC H100/H200 nodes:
 *
 * - `nvattest collect-evidence` (NVIDIA Attestation SDK CLI): `{evidences:[{arch, nonce,
 *   evidence, certificate, ...}], result_code, result_message}`; result_code 0 is success.
 * - nvtrust's `verifier.cc_admin.collect_gpu_evidence_remote(nonce)` dumped as JSON (what
 *   NEAR's private-ml-sdk runs): a bare `[{certificate, evidence}]` list.
 * - A collector that already prints the NEAR payload.
 *
 * `certificate` is base64 of the PEM chain, `evidence` base64 of SPDM request || response.
 * Pure: no I/O; the caller verifies the result before publishing it.
 */
import { z } from "zod";
import { AttestCode } from "../attest/codes.js";
import { AttestationError } from "../errors.js";
import { toHex } from "../util/bytes.js";

const NONCE_RE = /^(0x)?[0-9a-fA-F]{64}$/;

const Item = z
  .object({
    certificate: z.string().min(1),
    evidence: z.string().min(1),
    arch: z.string().min(1).optional(),
    nonce: z.string().regex(NONCE_RE).optional(),
  })
  .passthrough();
type Item = z.infer<typeof Item>;

const Nvattest = z.object({ evidences: z.array(Item), result_code: z.number().int(), result_message: z.string().optional() }).passthrough();
const NearPayload = z.object({ nonce: z.string().regex(NONCE_RE), arch: z.string().optional(), evidence_list: z.array(Item) }).passthrough();
const BareList = z.array(Item);

/** Hopper is the only CC architecture cc_admin's remote list omits the name for (it attests Hopper only). */
const DEFAULT_ARCH = "HOPPER";

/**
 * cc_admin's docstring calls the report a "Hex String" though it base64-encodes it; accept
 * hex too. An SPDM GET_MEASUREMENTS request starts with version 0x10-0x12 then 0xE0
 * (DSP0274 §10.11), so hex evidence starts "1?e0", which base64 of the same bytes never does.
 */
function evidenceBase64(s: string): string {
  const t = s.trim();
  if (/^1[0-2]e0[0-9a-f]*$/i.test(t) && t.length % 2 === 0) return Buffer.from(t, "hex").toString("base64");
  return t;
}

function jsonOf(stdout: string): unknown {
  const text = stdout.trim();
  if (!text) throw new AttestationError(AttestCode.GPU_COLLECTOR_FAILED, "the GPU evidence collector printed nothing (nvtrust's cc_admin exits 0 silently when CC mode is off or NVML fails)");
  try {
    return JSON.parse(text);
  } catch {
    // Python collectors may log to stdout before the JSON: take the last JSON-looking line.
    const line = text.split("\n").reverse().find((l) => /^\s*[[{]/.test(l));
    if (line) {
      try {
        return JSON.parse(line);
      } catch {
        /* fall through */
      }
    }
    throw new AttestationError(AttestCode.GPU_EVIDENCE_INVALID, "the GPU evidence collector's output is not JSON");
  }
}

const norm = (h: string): string => h.toLowerCase().replace(/^0x/, "");

/**
 * The collector's output as a NEAR nvidia_payload JSON string for `nonce`. Throws
 * AttestationError: GPU_COLLECTOR_FAILED (nvattest said so, empty output),
 * GPU_EVIDENCE_INVALID (unknown shape, no GPUs), GPU_NONCE_MISMATCH (an entry states
 * another nonce: evidence for someone else's challenge is never relabelled as ours).
 */
export function payloadFromCollectorOutput(stdout: string, nonce: Uint8Array): string {
  const want = toHex(nonce);
  const json = jsonOf(stdout);
  let items: Item[];
  let arch: string | undefined;
  const nv = Nvattest.safeParse(json);
  const near = NearPayload.safeParse(json);
  const bare = BareList.safeParse(json);
  if (nv.success) {
    if (nv.data.result_code !== 0) {
      throw new AttestationError(AttestCode.GPU_COLLECTOR_FAILED, `nvattest reported result_code ${nv.data.result_code} (${nv.data.result_message ?? "no message"})`);
    }
    items = nv.data.evidences;
  } else if (near.success) {
    if (norm(near.data.nonce) !== want) throw new AttestationError(AttestCode.GPU_NONCE_MISMATCH, `the collector's payload answers nonce ${norm(near.data.nonce)}, not ${want}`);
    items = near.data.evidence_list;
    arch = near.data.arch;
  } else if (bare.success) {
    items = bare.data;
  } else {
    throw new AttestationError(AttestCode.GPU_EVIDENCE_INVALID, "the GPU evidence collector's JSON is none of: nvattest {evidences}, nvidia_payload {nonce, evidence_list}, [{certificate, evidence}]");
  }
  if (items.length === 0) throw new AttestationError(AttestCode.GPU_EVIDENCE_INVALID, "the GPU evidence collector found no GPUs");
  items.forEach((it, i) => {
    if (it.nonce !== undefined && norm(it.nonce) !== want) {
      throw new AttestationError(AttestCode.GPU_NONCE_MISMATCH, `GPU ${i}'s evidence answers nonce ${norm(it.nonce)}, not ${want}`);
    }
  });
  const evidenceList = items.map((it) => ({ certificate: it.certificate, evidence: evidenceBase64(it.evidence), arch: it.arch ?? arch ?? DEFAULT_ARCH }));
  return JSON.stringify({ nonce: want, arch: arch ?? evidenceList[0]?.arch ?? DEFAULT_ARCH, evidence_list: evidenceList });
}
