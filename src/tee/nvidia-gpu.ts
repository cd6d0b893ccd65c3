/**
 * NVIDIA GPU evidence from the driver, for configfs-tsm and dstack nodes with CC-mode
 * H100/H200s. Node has no NVML binding we may ship, so — like NEAR's private-ml-sdk, which
 * runs nvtrust's `cc_admin.collect_gpu_evidence_remote(nonce)` in a Python child — we run a
 * configured collector per nonce: NVIDIA's `nvattest collect-evidence --nonce`, the nvtrust
 * Python verifier, or the operator's own command.
 *
 * Every answer is verified here (SPDM signature, device chain to NVIDIA's root, each GPU's
 * nonce) BEFORE it is returned: a node never publishes GPU evidence that does not answer
 * the client's nonce, whatever the collector printed.
 */
import { AttestCode } from "../attest/codes.js";
import { verifyNvidiaPayload } from "../attest/nvidia/payload.js";
import { AttestationError } from "../errors.js";
import { toHex } from "../util/bytes.js";
import { payloadFromCollectorOutput } from "./nvidia-gpu-output.js";
import { runCommand, type CommandRunner } from "./run-command.js";

/** What configfs-tsm/dstack providers take as `gpuEvidence`. */
export type GpuEvidenceSource = (nonce: Uint8Array) => Promise<string>;

/** nvattest (NVIDIA Attestation SDK CLI >= 1.0): JSON on stdout; `--format` is a global option. */
export const NVATTEST_ARGV: readonly string[] = ["nvattest", "--format", "json", "collect-evidence", "--device", "gpu", "--nonce", "{nonce}"];
/**
 * nvtrust's local GPU verifier (`pip install nv-local-gpu-verifier`), as NEAR's
 * private-ml-sdk calls it; ppcie_mode=False because the default refuses PPCIE systems.
 */
export const NVTRUST_PYTHON_ARGV: readonly string[] = [
  "python3",
  "-c",
  "import json,sys\nfrom verifier import cc_admin\nprint(json.dumps(cc_admin.collect_gpu_evidence_remote(sys.argv[1], ppcie_mode=False)))",
  "{nonce}",
];

export interface GpuCollectorOptions extends GpuVerifyOptions {
  /**
   * argv (run without a shell) or a shell command line (run with /bin/sh -c). `{nonce}` is
   * replaced by the 64-hex nonce; it is also in the environment as CLOISTER_GPU_NONCE.
   */
  readonly command: string | readonly string[];
  /** Default 60 s: 8 GPUs' SPDM exchanges take seconds, not minutes. */
  readonly timeoutMs?: number;
  readonly run?: CommandRunner;
}

function argvFor(command: string | readonly string[], nonceHex: string): string[] {
  // The nonce is 64 hex digits we produced ourselves, so substituting it cannot inject.
  if (typeof command === "string") return ["/bin/sh", "-c", command.replaceAll("{nonce}", nonceHex)];
  return command.map((a) => a.replaceAll("{nonce}", nonceHex));
}

function label(command: string | readonly string[]): string {
  return typeof command === "string" ? command : command.join(" ").slice(0, 80);
}

/** Last bytes of stderr for the error message (no evidence, no secrets: collector diagnostics). */
const tail = (s: string): string => s.trim().split("\n").slice(-3).join(" | ").slice(-300);

export function createGpuEvidenceCollector(opts: GpuCollectorOptions): GpuEvidenceSource {
  const run = opts.run ?? runCommand;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  // One collection at a time (serialised below): concurrent NVML attestation requests
  // contend in the driver (NEAR's proxy serialises them behind a semaphore for the same reason).
  const collect = async (nonce: Uint8Array): Promise<string> => {
    if (nonce.length !== 32) throw new AttestationError(AttestCode.GPU_EVIDENCE_INVALID, "the GPU (SPDM) nonce must be exactly 32 bytes");
    const nonceHex = toHex(nonce);
    const r = await run(argvFor(opts.command, nonceHex), { timeoutMs, env: { CLOISTER_GPU_NONCE: nonceHex } });
    const what = `GPU evidence collector (${label(opts.command)})`;
    if (r.startError) throw new AttestationError(AttestCode.GPU_COLLECTOR_FAILED, `${what} could not start: ${r.startError}`);
    if (r.timedOut) throw new AttestationError(AttestCode.GPU_COLLECTOR_FAILED, `${what} did not finish within ${timeoutMs} ms`);
    if (r.overflow) throw new AttestationError(AttestCode.GPU_COLLECTOR_FAILED, `${what} printed more than the output limit`);
    if (r.exitCode !== 0) throw new AttestationError(AttestCode.GPU_COLLECTOR_FAILED, `${what} exited with ${r.exitCode ?? "a signal"}: ${tail(r.stderr)}`);

    return verifiedPayload(r.stdout, nonce, opts);
  };
  return serialised(collect);
}

export interface GpuVerifyOptions {
  /** Roots the device chains must end in; NVIDIA's device root by default. Tests only. */
  readonly trustedRootsPem?: readonly string[];
  /** Clock for certificate validity; now by default. Tests only. */
  readonly now?: Date;
}

/**
 * A collector's output as the nvidia_payload to publish, only if every GPU's evidence
 * verifies and answers `nonce`; otherwise AttestationError with the first failure's code
 * (GPU_NONCE_MISMATCH, GPU_SIGNATURE_INVALID, CERT_CHAIN_INVALID, ...).
 */
export function verifiedPayload(output: string, nonce: Uint8Array, opts: GpuVerifyOptions = {}): string {
  const payload = payloadFromCollectorOutput(output, nonce);
  const v = verifyNvidiaPayload(payload, {
    expectedNonce: nonce,
    ...(opts.trustedRootsPem ? { trustedRootsPem: opts.trustedRootsPem } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  if (!v.verified) {
    const first = v.errors[0];
    throw new AttestationError(first?.code ?? AttestCode.GPU_EVIDENCE_INVALID, `GPU evidence from the collector does not verify; not publishing it: ${v.errors.map((e) => `${e.code}: ${e.message}`).join("; ")}`, {
      details: { errors: v.errors },
    });
  }
  return payload;
}

/** One collection at a time, in call order; a failure does not block the next. */
export function serialised(collect: GpuEvidenceSource): GpuEvidenceSource {
  let queue: Promise<unknown> = Promise.resolve();
  return (nonce) => {
    const next = queue.then(() => collect(nonce));
    queue = next.catch(() => undefined);
    return next;
  };
}
