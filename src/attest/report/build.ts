/**
 * Assembles a Cloister attestation report (docs/protocol.md) from any TeeProvider: binds
 * the node's keys, TLS SPKI and GPU evidence into report_data v1, asks for a quote over
 * it, and lays out the fields NEAR-compatibly. The gateway serves what this returns; the
 * simulator and tests use it too, so the producer and the verifier share one layout.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "../../util/bytes.js";
import { computeReportData } from "../binding.js";
import type { TeeProvider } from "../provider.js";
import { REPORT_VERSION, type AttestationReport, type ReportInfo, type SigningAlgo } from "./format.js";
import { signerBytes } from "./signer.js";

export interface ReportInputs {
  /** The client's 32-byte nonce. */
  readonly nonce: Uint8Array;
  readonly signingAlgo: SigningAlgo;
  /** 33-byte compressed secp256k1 (ecdsa) or 32-byte ed25519 public key. */
  readonly signingPublicKey: Uint8Array;
  readonly e2ePublicKey: Uint8Array;
  readonly tlsSpki?: Uint8Array | null;
  readonly info: ReportInfo;
}

export async function buildAttestationReport(provider: TeeProvider, input: ReportInputs): Promise<AttestationReport> {
  const { address, signer } = signerBytes(input.signingAlgo, input.signingPublicKey);
  const gpuPayload = await provider.getGpuEvidence(input.nonce);
  const reportData = computeReportData(
    { signer, e2ePublicKey: input.e2ePublicKey, tlsSpki: input.tlsSpki ?? null, gpuPayload },
    input.nonce,
  );
  const q = await provider.getQuote(reportData);
  const snp = q.tee === "sev-snp";
  const collateral = provider.getCollateral ? await provider.getCollateral(q, gpuPayload) : undefined;
  return {
    version: REPORT_VERSION,
    tee: q.tee,
    simulated: q.simulated,
    request_nonce: toHex(input.nonce),
    signing_address: address,
    signing_algo: input.signingAlgo,
    signing_public_key: toHex(input.signingPublicKey),
    e2e_public_key: toHex(input.e2ePublicKey),
    e2e_suite: { kem: "DHKEM(X25519, HKDF-SHA256)", kdf: "HKDF-SHA256", aead: "AES-256-GCM" },
    tls_spki_sha256: input.tlsSpki ? toHex(sha256(input.tlsSpki)) : null,
    report_data: toHex(reportData),
    intel_quote: snp ? null : toHex(q.quote),
    snp_report: snp ? toHex(q.quote) : null,
    snp_cert_chain: snp ? q.certChain : null,
    nvidia_payload: gpuPayload,
    event_log: q.eventLog,
    info: input.info,
    ...(collateral ? { collateral } : {}),
  };
}
