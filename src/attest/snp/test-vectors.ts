/**
 * Test-only loaders for the genuine SEV-SNP vectors in ../shared/vectors (never copied into
 * the repo); null when ../shared is missing so suites can skip loudly.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { sharedPath } from "../../util/shared.js";

export interface SnpSample {
  readonly report: Uint8Array;
  /** VCEK first, then any ASK the source carried. */
  readonly chainPem: string;
}

/** Tinfoil's Genoa report (v3) and its VCEK (base64 DER in the bundle). */
export function genoaSample(): SnpSample | null {
  const bin = sharedPath("vectors", "amd-sev-snp", "snp-report.bin");
  const bundle = sharedPath("vectors", "amd-sev-snp", "attestation-bundle.json");
  if (!bin || !bundle) return null;
  const { vcek } = JSON.parse(readFileSync(bundle, "utf8")) as { vcek: string };
  return { report: new Uint8Array(readFileSync(bin)), chainPem: new X509Certificate(Buffer.from(vcek, "base64")).toString() };
}

/**
 * dstack's Milan report. The fixture's `attestation` is SCALE-encoded (decoded in full by
 * src/attest/report/dstack-attestation.ts): version and variant bytes, then Vec<u8>
 * (compact length 0x1281 >> 2 = 1184) holding the report, then the ASK and VCEK as PEM.
 */
export function milanSample(): SnpSample | null {
  const file = sharedPath("vectors", "dstack", "sev-snp-attestation.json");
  if (!file) return null;
  const raw = Buffer.from((JSON.parse(readFileSync(file, "utf8")) as { attestation: string }).attestation, "hex");
  const pems = raw.toString("latin1").match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const [ask, vcek] = pems;
  if (!ask || !vcek) return null;
  return { report: new Uint8Array(raw.subarray(4, 4 + 1184)), chainPem: `${vcek}\n${ask}\n` };
}
