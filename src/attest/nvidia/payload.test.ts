import { describe, expect, it } from "vitest";
import { fromHex } from "../../util/bytes.js";
import { verifyNvidiaPayload } from "./payload.js";
import { readShared } from "./test-vectors.js";

const eightGpus = readShared("vectors", "nvidia-spdm", "gpu_evidence.json");
const near = readShared("vectors", "near-ai", "nearai_cloud_report_openai_gpt_oss_120b.json");
const nrasRequest = readShared("vectors", "nvidia-nras", "nearcloud_qwen_qwen3.5-122b-a10b_20260629_020657.nras.json");
const codes = (v: { errors: readonly { code: string }[] }): string[] => v.errors.map((e) => e.code);

interface EvidenceEntry {
  nonce: string;
  certificate: string;
  evidence: string;
  arch: string;
}

describe.skipIf(!eightGpus)(`nvtrust gpu_evidence.json (8 Hopper GPUs)${eightGpus ? "" : " (skipped: ../shared missing)"}`, () => {
  const list = JSON.parse(eightGpus ?? "[]") as EvidenceEntry[];
  const nonce = list[0]?.nonce ?? "";
  const payload = JSON.stringify({ nonce, arch: "HOPPER", evidence_list: list });

  it("verifies all eight GPUs (base64 PEM chains, base64 evidence)", () => {
    const v = verifyNvidiaPayload(payload, { expectedNonce: fromHex(nonce) });
    expect(v.errors).toEqual([]);
    expect(v.verified).toBe(true);
    expect(Object.keys(v.measurements).filter((k) => k.endsWith(".m1"))).toHaveLength(8);
    expect(v.measurements["gpu7.m64"]).toMatch(/^[0-9a-f]{96}$/);
  });

  it("accepts nvtrust's bare evidence-list file as well", () => {
    expect(verifyNvidiaPayload(eightGpus ?? "", { expectedNonce: fromHex(nonce) }).verified).toBe(true);
  });

  it("rejects the payload for another expected nonce", () => {
    expect(codes(verifyNvidiaPayload(payload, { expectedNonce: new Uint8Array(32) }))).toEqual(["GPU_NONCE_MISMATCH"]);
  });

  it("rejects a GPU whose evidence answers a different nonce than the payload's", () => {
    const other = JSON.stringify({ nonce: "ab".repeat(32), evidence_list: list.slice(0, 1) });
    expect(codes(verifyNvidiaPayload(other))).toEqual(["GPU_NONCE_MISMATCH"]);
  });

  it("names the GPU whose evidence was tampered with", () => {
    const tampered = list.map((e, i) => {
      if (i !== 3) return e;
      const raw = Buffer.from(e.evidence, "base64");
      raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
      return { ...e, evidence: raw.toString("base64") };
    });
    const v = verifyNvidiaPayload(JSON.stringify({ nonce, evidence_list: tampered }));
    expect(codes(v)).toEqual(["GPU_SIGNATURE_INVALID"]);
    expect(v.checks.find((c) => !c.ok && !c.skipped)?.name).toMatch(/^gpu3: /);
  });
});

const switches = readShared("vectors", "nvidia-spdm", "switch_evidence.json");
describe.skipIf(!switches)(`nvtrust switch_evidence.json (4 NVSwitches)${switches ? "" : " (skipped: ../shared missing)"}`, () => {
  it("verifies every NVSwitch's SPDM evidence to NVIDIA's device root", () => {
    const v = verifyNvidiaPayload(switches ?? "");
    expect(v.errors).toEqual([]);
    expect(v.checks.filter((c) => c.name.endsWith("device certificate chain") && c.ok)).toHaveLength(4);
  });
});

describe.skipIf(!near)(`NEAR AI Cloud nvidia_payload${near ? "" : " (skipped: ../shared missing)"}`, () => {
  const report = JSON.parse(near ?? "{}") as { model_attestations: Array<{ nvidia_payload: string; request_nonce: string }> };

  it("verifies every model attestation's GPUs against the client's nonce", () => {
    expect(report.model_attestations.length).toBeGreaterThan(0);
    for (const m of report.model_attestations) {
      const v = verifyNvidiaPayload(m.nvidia_payload, { expectedNonce: fromHex(m.request_nonce) });
      expect(v.errors).toEqual([]);
      expect(v.verified).toBe(true);
    }
  });
});

describe.skipIf(!nrasRequest)(`the evidence a NEAR node sent to NRAS${nrasRequest ? "" : " (skipped: ../shared missing)"}`, () => {
  it("verifies locally too (8 GPUs)", () => {
    const req = JSON.parse(nrasRequest ?? "{}") as { req_body_base64: string };
    const body = Buffer.from(req.req_body_base64, "base64").toString("utf8");
    const v = verifyNvidiaPayload(body);
    expect(v.errors).toEqual([]);
    expect(Object.keys(v.measurements).filter((k) => k.endsWith(".m1"))).toHaveLength(8);
  });
});

describe("nvidia_payload shape errors", () => {
  it("reports non-JSON and wrong shapes as GPU_EVIDENCE_INVALID", () => {
    expect(codes(verifyNvidiaPayload("not json"))).toEqual(["GPU_EVIDENCE_INVALID"]);
    expect(codes(verifyNvidiaPayload(JSON.stringify({ nonce: "00", evidence_list: [] })))).toEqual(["GPU_EVIDENCE_INVALID"]);
    const noBase64 = JSON.stringify({ nonce: "00".repeat(32), evidence_list: [{ certificate: "!!", evidence: "!!" }] });
    expect(codes(verifyNvidiaPayload(noBase64))).toEqual(["GPU_EVIDENCE_INVALID"]);
  });
});
