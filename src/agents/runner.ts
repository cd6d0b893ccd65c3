/**
 * One agent run end to end: check the caller's guarantees and the `full` acceptance,
 * lay the bundle out read-only in a fresh directory, start this run's own egress proxy on
 * a Unix socket there, run the sandbox, then build the telemetry record (the developer's
 * only view) and the signed receipt (the caller's proof). Every run has its own sandbox
 * (taken fresh from the pool or started now, never reused), proxy, socket, cgroup and
 * directory, so nothing one run does reaches another.
 */
import { chmod } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { BUNDLE_MAIN, type SignedBundle } from "./bundle.js";
import { attestationDigest } from "./attestation-digest.js";
import { sha256Hex } from "./canonical.js";
import { AgentError, AgentCode } from "./errors.js";
import { assertRequirements, type Requirements } from "./guarantees.js";
import { egressRules, manifestHash } from "./manifest.js";
import { telemetryFor, type TelemetryRecord } from "./observability.js";
import { signReceipt, RECEIPT_FORMAT, type SignedReceipt } from "./receipt.js";
import { createEgressProxy, type InferenceTarget, type Resolver } from "./egress/proxy.js";
import type { AddressPolicy } from "./egress/address-policy.js";
import type { TrafficLog } from "./egress/traffic.js";
import { detectSandbox, type SandboxSupport } from "./sandbox/detect.js";
import { launchSandbox, type Launched, type ProcessResult } from "./sandbox/launch.js";
import type { SandboxPool } from "./sandbox/warm-pool.js";
import type { Signer } from "../seal/signing.js";
import type { Sha256 } from "../types.js";
import type { OnSigned } from "../transparency/signed-hook.js";

export const PLACEHOLDER_API_KEY = "cloister-placeholder-key";

export interface RunAgentOptions {
  readonly signed: SignedBundle;
  readonly bundleSha256: Sha256;
  readonly scannerReportSha256: Sha256 | null;
  readonly input: Uint8Array;
  readonly requirements?: Requirements | null;
  /** The caller saw that the level is `full` and accepted it. */
  readonly acceptFull?: boolean;
  /** The node's attested ed25519 key: signs the receipt. */
  readonly signer: Signer;
  /** Hears of the signed receipt (the node's receipt log, src/transparency/signed-hook.ts). */
  readonly onSigned?: OnSigned;
  /** What the node attests (attestation-digest.ts): the receipt names it. */
  readonly attestation: { readonly tee: string; readonly e2ePublicKey: Uint8Array };
  readonly inference?: Omit<InferenceTarget, "models">;
  readonly addressPolicy?: AddressPolicy;
  readonly resolve?: Resolver;
  readonly allowUnsandboxed?: boolean;
  readonly onWarning?: (message: string) => void;
  readonly workDir?: string;
  readonly sandboxSupport?: SandboxSupport;
  /** Pre-started sandboxes (each used once); without one, every run starts its own. */
  readonly pool?: SandboxPool;
}

export interface AgentRunResult {
  readonly output: Buffer;
  readonly receipt: SignedReceipt;
  readonly telemetry: TelemetryRecord;
  readonly process: ProcessResult;
  readonly traffic: TrafficLog;
}

export async function runAgent(o: RunAgentOptions): Promise<AgentRunResult> {
  const m = o.signed.bundle.manifest;
  if (o.requirements) assertRequirements(m, o.bundleSha256, o.requirements);
  if (m.observability === "full" && !o.acceptFull) {
    throw new AgentError(AgentCode.FULL_NOT_ACCEPTED, "this agent's observability level is `full`: its developer sees your input and output; accept it explicitly (--accept-full / accept_full: true) to run it");
  }
  if (o.input.length > m.inputs.maxBytes) throw new AgentError(AgentCode.INPUT_INVALID, `input is ${o.input.length} bytes; this agent accepts at most ${m.inputs.maxBytes}`);
  try {
    JSON.parse(Buffer.from(o.input).toString("utf8"));
  } catch {
    throw new AgentError(AgentCode.INPUT_INVALID, "the agent's input must be JSON");
  }
  const runId = `run_${randomBytes(12).toString("base64url")}`;
  const startedAt = Date.now();
  const sandboxPlan = { limits: m.limits, ...(o.workDir ? { workDir: o.workDir } : {}), ...(o.allowUnsandboxed ? { allowUnsandboxed: true } : {}), ...(o.onWarning ? { onWarning: o.onWarning } : {}), ...(o.sandboxSupport ? { support: o.sandboxSupport } : {}) };
  const sandbox: Launched = o.pool && !o.sandboxSupport ? o.pool.take(m.limits).sandbox : launchSandbox(sandboxPlan);
  const proxy = createEgressProxy({
    rules: egressRules(m),
    ...(o.addressPolicy ? { addressPolicy: o.addressPolicy } : {}),
    ...(o.resolve ? { resolve: o.resolve } : {}),
    ...(o.inference ? { inference: { ...o.inference, models: m.models } } : {}),
  });
  try {
    await proxy.listen(sandbox.socketPath);
    await chmod(sandbox.socketPath, 0o666);
    const proc = await sandbox.run({
      entry: BUNDLE_MAIN,
      code: o.signed.bundle.code,
      input: o.input,
      wallSeconds: m.limits.wallSeconds,
      outputBytes: m.limits.outputBytes,
      env: { OPENAI_API_KEY: PLACEHOLDER_API_KEY, CLOISTER_RUN_ID: runId },
    });
    const contacted = proxy.log.contacted();
    const support = o.sandboxSupport ?? detectSandbox();
    const receipt = signReceipt(
      {
        format: RECEIPT_FORMAT,
        run_id: runId,
        agent: { name: m.name, version: m.version, developer_key: o.signed.developer_key },
        bundle_sha256: o.bundleSha256,
        manifest_sha256: manifestHash(m),
        scanner_report_sha256: o.scannerReportSha256,
        observability: m.observability,
        full_accepted: m.observability === "full" && o.acceptFull === true,
        requirements: o.requirements ? { ...o.requirements } : null,
        sandbox: { kind: proc.sandboxed ? "bubblewrap" : "none", seccomp: proc.seccomp, cgroup: proc.sandboxed ? support.cgroup : null },
        egress: contacted.map((t) => ({ host: t.host, port: t.port, connections: t.connections, bytes_out: t.bytesOut, bytes_in: t.bytesIn })),
        egress_refused: proxy.log.refusals(),
        input_sha256: sha256Hex(o.input),
        output_sha256: sha256Hex(proc.stdout),
        outcome: proc.outcome,
        exit_code: proc.exitCode,
        started_at: startedAt,
        duration_ms: Math.round(proc.durationMs),
        attestation: { tee: o.attestation.tee, signing_algo: "ed25519", signing_address: o.signer.address, attestation_sha256: attestationDigest({ tee: o.attestation.tee, signingAddress: o.signer.address, e2ePublicKey: o.attestation.e2ePublicKey }) },
      },
      o.signer,
      o.onSigned,
    );
    const telemetry = await telemetryFor(m.observability, { outcome: proc.outcome, durationMs: proc.durationMs, egress: contacted, refused: proxy.log.refusals(), input: o.input, output: proc.stdout, stderr: proc.stderr });
    return { output: proc.stdout, receipt, telemetry, process: proc, traffic: proxy.log };
  } finally {
    await proxy.close();
    sandbox.discard();
  }
}
