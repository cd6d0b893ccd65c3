import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePolicy } from "./policy/schema.js";
import { sharedPath } from "../util/shared.js";
import { parseNonce } from "../types.js";
import { toHex, utf8 } from "../util/bytes.js";
import { buildSimulatedGpuPayload, buildSimulatedSpdmEvidence } from "./simulator/gpu.js";
import { createSimulatorProvider } from "./simulator/provider.js";
import { SIMULATED_GPU_LEAF_CERT_PEM, SIMULATED_GPU_ROOT_CERT_PEM } from "./simulator/roots.js";
import { binaryKind, verifyEvidence } from "./verify-evidence.js";

const codes = (v: { errors: readonly { code: string }[] }): string[] => [...new Set(v.errors.map((e) => e.code))];
const nonce = new Uint8Array(32).fill(5);

describe("verifyEvidence: recognising a file", () => {
  it("reads a quote as binary and as hex text, and marks the simulated root", async () => {
    const { quote } = await createSimulatorProvider().getQuote(new Uint8Array(64).fill(1));
    expect(binaryKind(quote)).toBe("dcap-quote");
    for (const input of [quote, utf8.encode(`${toHex(quote)}\n`)]) {
      const strict = await verifyEvidence(input);
      expect(strict.tee).toBe("simulated");
      // A bare quote carries no collateral: its TCB status is unchecked as well.
      expect(codes(strict)).toEqual(["SIMULATED_NOT_ALLOWED", "TCB_UNCHECKED"]);
      const lax = await verifyEvidence(input, { allowSimulated: true, acceptUnchecked: ["tcb"] });
      expect(lax.verified).toBe(true);
      expect(lax.reportData).toBe("01".repeat(64));
    }
  });

  it("reads SPDM evidence with its chain, NEAR's payload, and one {evidence, certificate}", async () => {
    const spdm = buildSimulatedSpdmEvidence(nonce);
    expect(binaryKind(spdm)).toBe("spdm");
    const chain = SIMULATED_GPU_LEAF_CERT_PEM + SIMULATED_GPU_ROOT_CERT_PEM;
    const n = parseNonce(toHex(nonce));
    expect((await verifyEvidence(spdm, { certChainPem: chain, nonce: n, allowSimulated: true })).verified).toBe(true);
    const payload = await verifyEvidence(utf8.encode(buildSimulatedGpuPayload(nonce)), { nonce: n, allowSimulated: true });
    expect(payload.tee).toBe("nvidia-gpu");
    expect(payload.verified).toBe(true);
    const one = { evidence: Buffer.from(spdm).toString("base64"), certificate: Buffer.from(chain).toString("base64"), nonce: toHex(nonce) };
    expect((await verifyEvidence(utf8.encode(JSON.stringify(one)), { allowSimulated: true })).verified).toBe(true);
  });

  it("rejects GPU evidence for another nonce, and simulated GPU evidence unless allowed", async () => {
    const other = parseNonce("99".repeat(32));
    const v = await verifyEvidence(utf8.encode(buildSimulatedGpuPayload(nonce)), { nonce: other, allowSimulated: true });
    expect(codes(v)).toContain("GPU_NONCE_MISMATCH");
    expect(codes(await verifyEvidence(utf8.encode(buildSimulatedGpuPayload(nonce))))).toEqual(["SIMULATED_NOT_ALLOWED"]);
  });

  it("refuses what it does not know with EVIDENCE_UNREADABLE", async () => {
    for (const input of ["{}", "[1,2]", "hello", "abc", ""]) {
      await expect(verifyEvidence(utf8.encode(input))).rejects.toMatchObject({ code: "EVIDENCE_UNREADABLE" });
    }
    await expect(verifyEvidence(buildSimulatedSpdmEvidence(nonce))).rejects.toMatchObject({ code: "EVIDENCE_UNREADABLE" });
  });
});

describe.skipIf(!sharedPath("vectors", "amd-sev-snp", "snp-report.bin"))(
  `a JSON policy's snp section reaches the SEV-SNP verifier${sharedPath("vectors", "amd-sev-snp") ? "" : " (skipped: ../shared missing)"}`,
  () => {
    it("refuses VMPL 1 by default and lets `snp.maxVmpl: 1` allow it", async () => {
      const dir = sharedPath("vectors", "amd-sev-snp") as string;
      const bundle = JSON.parse(readFileSync(join(dir, "attestation-bundle.json"), "utf8")) as Record<string, unknown>;
      const vcek = Object.values(bundle).find((v): v is string => typeof v === "string" && v.includes("BEGIN CERTIFICATE"));
      const report = new Uint8Array(readFileSync(join(dir, "snp-report.bin")));
      report[0x30] = 1; // VMPL (ABI 56860 Table 22); the signature then fails too, which is not what we look at
      const now = new Date("2026-02-01T00:00:00Z");
      const opts = { now, ...(vcek ? { certChainPem: vcek } : {}) };
      const strict = await verifyEvidence(report, opts);
      const svsm = await verifyEvidence(report, { ...opts, policy: parsePolicy({ snp: { maxVmpl: 1 } }) });
      expect(strict.errors.map((e) => e.code)).toContain("SNP_VMPL_NOT_ALLOWED");
      expect(svsm.errors.map((e) => e.code)).not.toContain("SNP_VMPL_NOT_ALLOWED");
    });
  },
);
