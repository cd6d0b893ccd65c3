/**
 * Whole-report verification: a simulated Cloister report (TDX-format quote, one GPU's
 * SPDM evidence, event log, key binding) verified cold (first call in the process) and
 * warm (p50), and NEAR AI Cloud's real report (gateway + model + 8 GPUs) when ../shared is
 * present. The baseline is the bare signature checks the same report needs (quote and QE
 * report ECDSA P-256, SPDM ECDSA P-384 per GPU, via node:crypto), measured in the same run.
 */
import { createPublicKey, verify as cryptoVerify, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseQuote } from "../src/attest/intel/parse-quote.js";
import { parseSpdmEvidence } from "../src/attest/nvidia/spdm.js";
import { createSimulatedNode } from "../src/attest/simulator/report.js";
import { verifyAttestationReport } from "../src/attest/verify.js";
import { parseNonce, type Nonce } from "../src/types.js";
import { fromHex, toHex } from "../src/util/bytes.js";
import { sharedPath } from "../src/util/shared.js";
import { fmt, percentile, timeIt } from "./stats.js";

const N = 100;

interface Evidence {
  readonly intel_quote: string | null;
  readonly nvidia_payload?: string | null;
}

/** The signature checks a report needs and nothing else: the floor for any verifier. */
function bareChecks(e: Evidence): () => void {
  const q = parseQuote(fromHex(e.intel_quote ?? ""));
  const sd = q.signatureData;
  const xy = sd.attestationKey;
  const attKey = createPublicKey({
    key: { kty: "EC", crv: "P-256", x: Buffer.from(xy.subarray(0, 32)).toString("base64url"), y: Buffer.from(xy.subarray(32)).toString("base64url") },
    format: "jwk",
  });
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(sd.certification.pckChainPem)?.[0] ?? "";
  const pck = new X509Certificate(pem).publicKey;
  const gpus: { key: ReturnType<typeof createPublicKey>; data: Uint8Array; sig: Uint8Array }[] = [];
  if (e.nvidia_payload) {
    const p = JSON.parse(e.nvidia_payload) as { evidence_list: { certificate: string; evidence: string }[] };
    for (const item of p.evidence_list) {
      const ev = parseSpdmEvidence(new Uint8Array(Buffer.from(item.evidence, "base64")));
      const chainText = Buffer.from(item.certificate, "base64").toString("utf8");
      const leafPem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(chainText)?.[0] ?? "";
      gpus.push({ key: new X509Certificate(leafPem).publicKey, data: ev.signedBytes, sig: ev.response.signature });
    }
  }
  return () => {
    cryptoVerify("sha256", q.signedBytes, { key: attKey, dsaEncoding: "ieee-p1363" }, sd.signature);
    cryptoVerify("sha256", sd.certification.qeReport.raw, { key: pck, dsaEncoding: "ieee-p1363" }, sd.certification.qeReportSignature);
    for (const g of gpus) cryptoVerify("sha384", g.data, { key: g.key, dsaEncoding: "ieee-p1363" }, g.sig);
  };
}

async function line(name: string, ours: () => Promise<unknown>, bare: () => void): Promise<void> {
  const t0 = performance.now();
  await ours();
  const cold = performance.now() - t0;
  const warm = percentile(await timeIt(N, ours), 50);
  const base = percentile(await timeIt(N, bare), 50);
  console.log(`${name.padEnd(22)} cold ${fmt(cold).padStart(9)}  warm p50 ${fmt(warm).padStart(9)}  bare signatures p50 ${fmt(base).padStart(9)}  ratio x${(warm / base).toFixed(2)}`);
}

export async function run(): Promise<void> {
  const nonceBytes = new Uint8Array(32).fill(7);
  const nonce = parseNonce(toHex(nonceBytes));
  const report = await createSimulatedNode().report(nonceBytes);
  await line("simulated (1 GPU)", () => verifyAttestationReport(report, { nonce, allowSimulated: true }), bareChecks(report));

  const nearFile = sharedPath("vectors", "near-ai", "nearai_cloud_report_openai_gpt_oss_120b.json");
  if (!nearFile) {
    console.log("near-ai report: skipped (../shared/vectors missing)");
    return;
  }
  const near = JSON.parse(readFileSync(nearFile, "utf8")) as { gateway_attestation: Evidence; model_attestations: Evidence[] };
  const nearNonce = "deadbeef00000000000000000000000000000000000000000000000000000001" as Nonce;
  const gw = bareChecks({ intel_quote: near.gateway_attestation.intel_quote });
  const model = bareChecks(near.model_attestations[0] ?? { intel_quote: null });
  await line("NEAR AI (gw + 8 GPUs)", () => verifyAttestationReport(near, { nonce: nearNonce, now: new Date("2026-03-12T00:00:00Z") }), () => {
    gw();
    model();
  });
}
