/**
 * NVIDIA SPDM, NRAS and AMD SEV-SNP verification: cold (first call in the process) and warm
 * (median) time per kind, and our layer's overhead as a ratio to the bare signature check
 * (crypto.verify / jose jwtVerify) on the same input, measured in the same run.
 */
import { verify as cryptoVerify, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { parseSpdmEvidence } from "../src/attest/nvidia/spdm.js";
import { verifySpdmEvidence } from "../src/attest/nvidia/verify-spdm.js";
import { verifyNrasResponse } from "../src/attest/nvidia/nras.js";
import { splitPemChain } from "../src/attest/nvidia/x509.js";
import { parseSnpReport } from "../src/attest/snp/report.js";
import { verifySnpReport } from "../src/attest/snp/verify.js";
import { concatBytes, fromHex } from "../src/util/bytes.js";
import { sharedPath } from "../src/util/shared.js";
import { fmt, percentile, timeIt } from "./stats.js";

const N = 200;

async function cold(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function line(name: string, ours: () => unknown, bare: () => unknown): Promise<void> {
  const first = await cold(ours);
  const warm = percentile(await timeIt(N, ours), 50);
  const base = percentile(await timeIt(N, bare), 50);
  console.log(`${name.padEnd(6)} cold ${fmt(first).padStart(9)}  warm p50 ${fmt(warm).padStart(9)}  bare verify p50 ${fmt(base).padStart(9)}  overhead x${(warm / base).toFixed(2)}`);
}

export async function run(): Promise<void> {
  const rep = sharedPath("vectors", "nvidia-spdm", "hopperAttestationReport.txt");
  const chainFile = sharedPath("vectors", "nvidia-spdm", "hopperCertChain.txt");
  const nras = sharedPath("vectors", "nvidia-nras", "nearcloud_qwen_qwen3.5-122b-a10b_20260629_020657.nras.body");
  const jwksFile = sharedPath("vectors", "nvidia-nras", "nearcloud_qwen_qwen3.5-122b-a10b_20260629_020657.jwks.json");
  const snp = sharedPath("vectors", "amd-sev-snp", "snp-report.bin");
  const bundle = sharedPath("vectors", "amd-sev-snp", "attestation-bundle.json");
  if (!rep || !chainFile || !nras || !jwksFile || !snp || !bundle) {
    console.log("skipped: ../shared/vectors missing (needs nvidia-spdm, nvidia-nras, amd-sev-snp)");
    return;
  }

  // SPDM: full verify (parse, 5-cert chain, P-384 signature, nonce) vs one crypto.verify.
  const evidence = fromHex(readFileSync(rep, "utf8").trim());
  const certChainPem = readFileSync(chainFile, "utf8");
  const nonce = evidence.subarray(4, 36);
  const ev = parseSpdmEvidence(evidence);
  const leafKey = (splitPemChain(certChainPem)[0] as X509Certificate).publicKey;
  await line(
    "SPDM",
    () => verifySpdmEvidence({ evidence, certChainPem, expectedNonce: nonce }),
    () => cryptoVerify("sha384", ev.signedBytes, { key: leafKey, dsaEncoding: "ieee-p1363" }, ev.response.signature),
  );

  // NRAS: overall + 8 device tokens, digests, claims vs 9 bare jwtVerify calls.
  const body = JSON.parse(readFileSync(nras, "utf8")) as [[string, string], Record<string, string>];
  const jwks = JSON.parse(readFileSync(jwksFile, "utf8")) as JSONWebKeySet;
  const iat = (JSON.parse(Buffer.from(body[0][1].split(".")[1] ?? "", "base64url").toString("utf8")) as { iat: number }).iat;
  const now = new Date((iat + 60) * 1000);
  const keys = createLocalJWKSet(jwks);
  const tokens = [body[0][1], ...Object.values(body[1])];
  await line(
    "NRAS",
    () => verifyNrasResponse(body, { jwks, now }),
    async () => {
      for (const t of tokens) await jwtVerify(t, keys, { currentDate: now });
    },
  );

  // SNP: parse, ARK -> ASK -> VCEK (RSA-PSS), P-384 report signature, TCB/chip/policy vs one crypto.verify.
  const report = new Uint8Array(readFileSync(snp));
  const vcek = new X509Certificate(Buffer.from((JSON.parse(readFileSync(bundle, "utf8")) as { vcek: string }).vcek, "base64"));
  const vcekPem = vcek.toString();
  const parsed = parseSnpReport(report);
  const sig = concatBytes(parsed.signatureR, parsed.signatureS);
  const snpNow = new Date("2026-07-01T00:00:00Z");
  await line(
    "SNP",
    () => verifySnpReport(report, { vcekPem, now: snpNow }),
    () => cryptoVerify("sha384", parsed.signedBytes, { key: vcek.publicKey, dsaEncoding: "ieee-p1363" }, sig),
  );
}
