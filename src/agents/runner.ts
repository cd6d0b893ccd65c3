/**
 * One agent run end to end: check the caller's guarantees and the `full` acceptance,
 * lay the bundle out read-only in a fresh directory, start this run's own egress proxy on
 * a Unix socket there, run the sandbox, then build the telemetry record (the developer's
 * only view) and the signed receipt (the caller's proof). Every run has its own proxy,
 * socket, cgroup and directory, so nothing one run does reaches another.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { BUNDLE_MAIN, type SignedBundle } from "./bundle.js";
import { sha256Hex } from "./canonical.js";
import { AgentError, AgentCode } from "./errors.js";
import { assertRequirements, type Requirements } from "./guarantees.js";
import { egressRules, manifestHash } from "./manifest.js";
import { telemetryFor, type TelemetryRecord } from "./observability.js";
import { signReceipt, RECEIPT_FORMAT, type SignedReceipt } from "./receipt.js";
import { createEgressProxy, type InferenceTarget, type Resolver } from "./egress/proxy.js";
import type { AddressPolicy } from "./egress/address-policy.js";
import type { TrafficLog } from "./egress/traffic.js";
import { BRIDGE_SOURCE } from "./sandbox/bridge-source.js";
import { detectSandbox, type SandboxSupport } from "./sandbox/detect.js";
import { runSandboxed, type ProcessResult } from "./sandbox/run-sandboxed.js";
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
  readonly attestation: { readonly tee: string; readonly report_data_sha256: Sha256 | null };
  readonly inference?: Omit<InferenceTarget, "models">;
  readonly addressPolicy?: AddressPolicy;
  readonly resolve?: Resolver;
  readonly allowUnsandboxed?: boolean;
  readonly onWarning?: (message: string) => void;
  readonly workDir?: string;
  readonly sandboxSupport?: SandboxSupport;
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
  const dir = await mkdtemp(join(o.workDir ?? tmpdir(), "cloister-run-"));
  const bundleDir = join(dir, "bundle");
  const runtimeDir = join(dir, "runtime");
  const socketPath = join(dir, "egress.sock");
  const proxy = createEgressProxy({
    rules: egressRules(m),
    ...(o.addressPolicy ? { addressPolicy: o.addressPolicy } : {}),
    ...(o.resolve ? { resolve: o.resolve } : {}),
    ...(o.inference ? { inference: { ...o.inference, models: m.models } } : {}),
  });
  const startedAt = Date.now();
  try {
    await mkdir(bundleDir);
    await mkdir(runtimeDir);
    await writeFile(join(bundleDir, BUNDLE_MAIN), o.signed.bundle.code, { mode: 0o444 });
    await writeFile(join(runtimeDir, "bridge.mjs"), BRIDGE_SOURCE, { mode: 0o444 });
    // The sandbox runs as uid 65534 on the host side too: it may traverse, read, and use the socket.
    await chmod(dir, 0o711);
    await chmod(bundleDir, 0o555);
    await chmod(runtimeDir, 0o555);
    await proxy.listen(socketPath);
    await chmod(socketPath, 0o666);
    const proc = await runSandboxed({
      bundleDir,
      runtimeDir,
      socketPath,
      entry: BUNDLE_MAIN,
      input: o.input,
      limits: m.limits,
      env: { OPENAI_API_KEY: PLACEHOLDER_API_KEY, CLOISTER_RUN_ID: runId },
      ...(o.allowUnsandboxed ? { allowUnsandboxed: true } : {}),
      ...(o.onWarning ? { onWarning: o.onWarning } : {}),
      ...(o.sandboxSupport ? { support: o.sandboxSupport } : {}),
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
        attestation: { tee: o.attestation.tee, signing_algo: "ed25519", signing_address: o.signer.address, report_data_sha256: o.attestation.report_data_sha256 },
      },
      o.signer,
      o.onSigned,
    );
    const telemetry = telemetryFor(m.observability, { outcome: proc.outcome, durationMs: proc.durationMs, egress: contacted, refused: proxy.log.refusals(), input: o.input, output: proc.stdout, stderr: proc.stderr });
    return { output: proc.stdout, receipt, telemetry, process: proc, traffic: proxy.log };
  } finally {
    await proxy.close();
    await rm(dir, { recursive: true, force: true });
  }
}
