/**
 * GPU evidence through the dstack guest agent (`dstack.guest.v1`, dstack OS >= 0.6.0):
 * POST /v1/AttestGpu {"nonce": "<32 bytes hex>"} -> {"bundles": [{vendor, format,
 * evidence: hex}]}. For vendor "nvidia", format "nvidia-nvattest-collect-evidence-json-v1",
 * the evidence bytes are nvattest's collect-evidence JSON for our nonce (dstack SDK,
 * `DstackClientV1.attestGpu`). The agent gives evidence, not a verdict, so it is verified
 * here exactly like a local collector's output before it is published.
 */
import { z } from "zod";
import { AttestCode } from "../attest/codes.js";
import { AttestationError } from "../errors.js";
import { toHex, utf8 } from "../util/bytes.js";
import { dstackRpc, dstackRpcError, DSTACK_SOCKET_PATH } from "./dstack.js";
import { serialised, verifiedPayload, type GpuEvidenceSource, type GpuVerifyOptions } from "./nvidia-gpu.js";

export const NVATTEST_BUNDLE_FORMAT = "nvidia-nvattest-collect-evidence-json-v1";

const Reply = z.object({ bundles: z.array(z.object({ vendor: z.string(), format: z.string(), evidence: z.string().regex(/^([0-9a-fA-F]{2})*$/) }).passthrough()).default([]) }).passthrough();

export interface DstackGpuOptions extends GpuVerifyOptions {
  readonly socketPath?: string;
  /** Default 60 s, as for a local collector. */
  readonly timeoutMs?: number;
}

export function createDstackGpuEvidence(opts: DstackGpuOptions = {}): GpuEvidenceSource {
  const socketPath = opts.socketPath ?? DSTACK_SOCKET_PATH;
  return serialised(async (nonce) => {
    if (nonce.length !== 32) throw new AttestationError(AttestCode.GPU_EVIDENCE_INVALID, "the GPU (SPDM) nonce must be exactly 32 bytes");
    let raw: unknown;
    try {
      raw = await dstackRpc(socketPath, "/v1/AttestGpu", { nonce: toHex(nonce) }, opts.timeoutMs ?? 60_000);
    } catch (cause) {
      throw new AttestationError(AttestCode.GPU_COLLECTOR_FAILED, `dstack guest agent AttestGpu failed (it needs dstack OS >= 0.6): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    const why = dstackRpcError(raw);
    if (why !== null) throw new AttestationError(AttestCode.GPU_COLLECTOR_FAILED, `dstack guest agent refused AttestGpu: ${why}`);
    const reply = Reply.safeParse(raw);
    if (!reply.success) throw new AttestationError(AttestCode.GPU_EVIDENCE_INVALID, "dstack AttestGpu reply has the wrong shape");
    const nvidia = reply.data.bundles.filter((b) => b.vendor === "nvidia" && b.format === NVATTEST_BUNDLE_FORMAT);
    if (nvidia.length !== 1) {
      throw new AttestationError(AttestCode.GPU_COLLECTOR_FAILED, `dstack AttestGpu returned ${nvidia.length} NVIDIA ${NVATTEST_BUNDLE_FORMAT} bundles (expected 1; formats seen: ${reply.data.bundles.map((b) => `${b.vendor}/${b.format}`).join(", ") || "none"})`);
    }
    const doc = utf8.decode(Buffer.from((nvidia[0] as { evidence: string }).evidence, "hex"));
    return verifiedPayload(doc, nonce, opts);
  });
}
