import { readFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { describe, expect, it } from "vitest";
import { computeReportData } from "../attest/binding.js";
import { verifyNvidiaPayload } from "../attest/nvidia/payload.js";
import { buildAttestationReport } from "../attest/report/build.js";
import { signerBytes } from "../attest/report/signer.js";
import { buildSimulatedGpuPayload } from "../attest/simulator/gpu.js";
import { SIMULATED_GPU_ROOTS_PEM } from "../attest/simulator/roots.js";
import { fromHex, toHex } from "../util/bytes.js";
import { sharedPath } from "../util/shared.js";
import { createConfigfsTsmProvider, type TsmFs } from "./configfs-tsm.js";
import { payloadFromCollectorOutput } from "./nvidia-gpu-output.js";
import { createGpuEvidenceCollector } from "./nvidia-gpu.js";
import type { CommandRunner } from "./run-command.js";
import { fakeCollectorArgv, writeEvidenceFile } from "./test-gpu-collector.js";
import * as fsp from "node:fs/promises";

const nonceA = new Uint8Array(32).fill(0xa1);
const nonceB = new Uint8Array(32).fill(0xb2);

/** One simulated GPU's evidence for nonceA, as a collector's evidence file (no ../shared needed). */
function simulatedEvidenceFile(nonce: Uint8Array): string {
  const p = JSON.parse(buildSimulatedGpuPayload(nonce)) as { evidence_list: { certificate: string; evidence: string; arch: string }[] };
  return writeEvidenceFile(p.evidence_list.map((e) => ({ ...e, nonce: toHex(nonce) })));
}

const sim = { trustedRootsPem: SIMULATED_GPU_ROOTS_PEM };

describe("GPU evidence collector (real child process, simulated GPU)", () => {
  const file = simulatedEvidenceFile(nonceA);

  it("runs the collector with the nonce, parses nvattest output into the nvidia_payload shape and verifies it", async () => {
    const collect = createGpuEvidenceCollector({ command: fakeCollectorArgv("nvattest", file), ...sim });
    const payload = JSON.parse(await collect(nonceA)) as Record<string, unknown>;
    expect(Object.keys(payload).sort()).toEqual(["arch", "evidence_list", "nonce"]);
    expect(payload["nonce"]).toBe(toHex(nonceA));
    expect(payload["arch"]).toBe("HOPPER");
    const list = payload["evidence_list"] as Record<string, unknown>[];
    expect(list).toHaveLength(1);
    expect(Object.keys(list[0] ?? {}).sort()).toEqual(["arch", "certificate", "evidence"]);
    expect(verifyNvidiaPayload(JSON.stringify(payload), { expectedNonce: nonceA, ...sim }).verified).toBe(true);
  });

  it("accepts nvtrust cc_admin's bare list and a collector that logs before its JSON", async () => {
    for (const mode of ["bare", "noisy"] as const) {
      const collect = createGpuEvidenceCollector({ command: fakeCollectorArgv(mode, file), ...sim });
      expect(JSON.parse(await collect(nonceA)).evidence_list).toHaveLength(1);
    }
  });

  it("refuses evidence that answers another nonce, even when the collector relabels it as ours", async () => {
    // The entries state their nonce: refused before any crypto.
    await expect(createGpuEvidenceCollector({ command: fakeCollectorArgv("nvattest", file), ...sim })(nonceB)).rejects.toMatchObject({ name: "AttestationError", code: "GPU_NONCE_MISMATCH" });
    // No stated nonce, or a payload that claims ours: the SPDM request inside says otherwise.
    for (const mode of ["bare", "near"] as const) {
      await expect(createGpuEvidenceCollector({ command: fakeCollectorArgv(mode, file), ...sim })(nonceB)).rejects.toMatchObject({ code: "GPU_NONCE_MISMATCH" });
    }
  });

  it("refuses evidence whose SPDM signature does not verify, and evidence under an untrusted root", async () => {
    await expect(createGpuEvidenceCollector({ command: fakeCollectorArgv("tamper", file), ...sim })(nonceA)).rejects.toMatchObject({ code: "GPU_SIGNATURE_INVALID" });
    // Default roots are NVIDIA's only: simulated GPUs are never published by a hardware node.
    await expect(createGpuEvidenceCollector({ command: fakeCollectorArgv("bare", file) })(nonceA)).rejects.toMatchObject({ name: "AttestationError", message: expect.stringMatching(/not publishing/) });
  });

  it("passes the nonce to a shell command line as {nonce} and as CLOISTER_GPU_NONCE", async () => {
    const [node, script] = fakeCollectorArgv("near", file);
    const viaEnv = createGpuEvidenceCollector({ command: `"${node}" "${script}" near "${file}" "$CLOISTER_GPU_NONCE"`, ...sim });
    expect(JSON.parse(await viaEnv(nonceA)).nonce).toBe(toHex(nonceA));
    const viaPlaceholder = createGpuEvidenceCollector({ command: `"${node}" "${script}" near "${file}" {nonce}`, ...sim });
    expect(JSON.parse(await viaPlaceholder(nonceA)).nonce).toBe(toHex(nonceA));
  });

  it("maps a failing, hanging, silent or missing collector to GPU_COLLECTOR_FAILED", async () => {
    await expect(createGpuEvidenceCollector({ command: fakeCollectorArgv("fail", file) })(nonceA)).rejects.toMatchObject({ code: "GPU_COLLECTOR_FAILED", message: expect.stringMatching(/exited with 3: NVML: Unable/) });
    await expect(createGpuEvidenceCollector({ command: fakeCollectorArgv("hang", file), timeoutMs: 300 })(nonceA)).rejects.toMatchObject({ code: "GPU_COLLECTOR_FAILED", message: expect.stringMatching(/did not finish within 300 ms/) });
    await expect(createGpuEvidenceCollector({ command: fakeCollectorArgv("empty", file) })(nonceA)).rejects.toMatchObject({ code: "GPU_COLLECTOR_FAILED", message: expect.stringMatching(/printed nothing/) });
    await expect(createGpuEvidenceCollector({ command: fakeCollectorArgv("rc", file) })(nonceA)).rejects.toMatchObject({ code: "GPU_COLLECTOR_FAILED", message: expect.stringMatching(/result_code 3/) });
    await expect(createGpuEvidenceCollector({ command: ["/definitely/not/nvattest"] })(nonceA)).rejects.toMatchObject({ code: "GPU_COLLECTOR_FAILED", message: expect.stringMatching(/could not start/) });
    await expect(createGpuEvidenceCollector({ command: fakeCollectorArgv("bare", file) })(new Uint8Array(64))).rejects.toMatchObject({ code: "GPU_EVIDENCE_INVALID" });
  });

  it("runs one collection at a time (NVML contention)", async () => {
    let running = 0;
    let most = 0;
    const payload = buildSimulatedGpuPayload(nonceA);
    const run: CommandRunner = async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      return { exitCode: 0, stdout: payload, stderr: "", timedOut: false, overflow: false, startError: null };
    };
    const collect = createGpuEvidenceCollector({ command: ["x"], run, ...sim });
    const results = await Promise.allSettled([collect(nonceA), collect(nonceB), collect(nonceA)]);
    expect(most).toBe(1);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });
});

describe("collector output parsing", () => {
  it("converts hex-encoded SPDM evidence to base64 and leaves base64 alone", () => {
    const hex = `11e001ff${"00".repeat(40)}`;
    const out = JSON.parse(payloadFromCollectorOutput(JSON.stringify([{ certificate: "LS0t", evidence: hex }]), nonceA)) as { evidence_list: { evidence: string }[] };
    expect(out.evidence_list[0]?.evidence).toBe(Buffer.from(hex, "hex").toString("base64"));
    const b64 = Buffer.from(hex, "hex").toString("base64");
    const again = JSON.parse(payloadFromCollectorOutput(JSON.stringify([{ certificate: "LS0t", evidence: b64 }]), nonceA)) as { evidence_list: { evidence: string }[] };
    expect(again.evidence_list[0]?.evidence).toBe(b64);
  });

  it("refuses an empty GPU list, an unknown shape and a payload for another nonce", () => {
    expect(() => payloadFromCollectorOutput("[]", nonceA)).toThrow(expect.objectContaining({ code: "GPU_EVIDENCE_INVALID" }));
    expect(() => payloadFromCollectorOutput('{"gpus":1}', nonceA)).toThrow(expect.objectContaining({ code: "GPU_EVIDENCE_INVALID" }));
    expect(() => payloadFromCollectorOutput("not json", nonceA)).toThrow(expect.objectContaining({ code: "GPU_EVIDENCE_INVALID" }));
    const other = JSON.stringify({ nonce: toHex(nonceB), evidence_list: [{ certificate: "x", evidence: "y" }] });
    expect(() => payloadFromCollectorOutput(other, nonceA)).toThrow(expect.objectContaining({ code: "GPU_NONCE_MISMATCH" }));
  });
});

/** The fake configfs-tsm kernel of tee.test.ts, reduced: outblob = "QUOTE:" || inblob. */
function fakeKernel(): TsmFs {
  return {
    async mkdir(p) {
      await fsp.mkdir(p);
      await fsp.writeFile(join(p, "generation"), "0\n");
      await fsp.writeFile(join(p, "provider"), "tdx_guest\n");
    },
    rmdir: (p) => fsp.rm(p, { recursive: true }),
    readFile: (p) => fsp.readFile(p),
    async writeFile(p, d) {
      await fsp.writeFile(p, d);
      await fsp.writeFile(join(p, "..", "generation"), "1\n");
      await fsp.writeFile(join(p, "..", "outblob"), Buffer.concat([Buffer.from("QUOTE:"), Buffer.from(d)]));
    },
  };
}

async function reportWith(collect: (n: Uint8Array) => Promise<string>, nonce: Uint8Array): Promise<{ report: Awaited<ReturnType<typeof buildAttestationReport>>; signer: Uint8Array; e2e: Uint8Array }> {
  const base = mkdtempSync(join(tmpdir(), "tsm-gpu-"));
  const provider = createConfigfsTsmProvider({ basePath: base, fs: fakeKernel(), ccelPath: join(base, "no-ccel"), gpuEvidence: collect });
  const signingPublicKey = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true);
  const e2e = new Uint8Array(32).fill(5);
  const report = await buildAttestationReport(provider, {
    nonce,
    signingAlgo: "ecdsa",
    signingPublicKey,
    e2ePublicKey: e2e,
    info: { app_name: "cloister", version: "test", app_manifest: {}, compose_hash: null },
  });
  return { report, signer: signerBytes("ecdsa", signingPublicKey).signer, e2e };
}

describe("configfs-tsm provider with a GPU collector", () => {
  it("publishes the verified payload and binds it into report_data (and so into the quote)", async () => {
    const collect = createGpuEvidenceCollector({ command: fakeCollectorArgv("bare", simulatedEvidenceFile(nonceA)), ...sim });
    const { report, signer, e2e } = await reportWith(collect, nonceA);
    expect(report.tee).toBe("tdx");
    expect(report.nvidia_payload).not.toBeNull();
    expect(JSON.parse(report.nvidia_payload ?? "{}").nonce).toBe(toHex(nonceA));
    const bound = computeReportData({ signer, e2ePublicKey: e2e, tlsSpki: null, gpuPayload: report.nvidia_payload }, nonceA);
    expect(report.report_data).toBe(toHex(bound));
    // Without the GPU payload the binding differs: the quote commits to this exact evidence.
    expect(toHex(computeReportData({ signer, e2ePublicKey: e2e, tlsSpki: null, gpuPayload: null }, nonceA))).not.toBe(report.report_data);
    expect(Buffer.from(fromHex(report.intel_quote ?? "")).subarray(6)).toEqual(Buffer.from(bound));
  });

  it("fails the report rather than publish GPU evidence for another nonce", async () => {
    const collect = createGpuEvidenceCollector({ command: fakeCollectorArgv("near", simulatedEvidenceFile(nonceA)), ...sim });
    await expect(reportWith(collect, nonceB)).rejects.toMatchObject({ code: "GPU_NONCE_MISMATCH" });
  });
});

const vectors = sharedPath("vectors", "nvidia-spdm", "gpu_evidence.json");
describe.skipIf(!vectors)(`GPU collector replaying 8 real Hopper GPUs (nvtrust gpu_evidence.json)${vectors ? "" : " (skipped: ../shared missing)"}`, () => {
  const file = vectors as string;
  const fixed = (): Uint8Array => {
    const items = JSON.parse(readFileSync(file, "utf8")) as { nonce: string }[];
    return fromHex(items[0]?.nonce ?? "");
  };

  it("parses nvattest-shaped output for the evidence's own nonce into a payload that verifies against NVIDIA's root", async () => {
    const nonce = fixed();
    const payload = await createGpuEvidenceCollector({ command: fakeCollectorArgv("nvattest", file) })(nonce);
    const p = JSON.parse(payload) as { nonce: string; arch: string; evidence_list: { arch: string }[] };
    expect(p.nonce).toBe(toHex(nonce));
    expect(p.arch).toBe("HOPPER");
    expect(p.evidence_list).toHaveLength(8);
    expect(verifyNvidiaPayload(payload, { expectedNonce: nonce }).verified).toBe(true);
  });

  it("refuses to publish the real evidence for any other nonce (GPU_NONCE_MISMATCH)", async () => {
    for (const mode of ["nvattest", "bare", "near"] as const) {
      await expect(createGpuEvidenceCollector({ command: fakeCollectorArgv(mode, file) })(nonceB)).rejects.toMatchObject({ code: "GPU_NONCE_MISMATCH" });
    }
  });

  it("refuses a real report with one flipped byte", async () => {
    await expect(createGpuEvidenceCollector({ command: fakeCollectorArgv("tamper", file) })(fixed())).rejects.toMatchObject({ code: "GPU_SIGNATURE_INVALID" });
  });
});
