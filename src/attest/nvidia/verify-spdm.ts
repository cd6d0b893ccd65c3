/**
 * Local verification of one GPU's SPDM evidence, as nvtrust's local GPU verifier does it:
 * the device certificate chain to NVIDIA's device root, the ECDSA P-384 signature over
 * SHA-384(request || response-without-signature) by the leaf key, and the requester nonce.
 * Not checked here: OCSP status of the device certificates and RIM comparison (see rim.ts),
 * both of which need NVIDIA's online services or separately fetched RIMs.
 */
import { verify as cryptoVerify, type X509Certificate } from "node:crypto";
import { AttestationError, isCloisterError } from "../../errors.js";
import type { Measurement } from "../../types.js";
import { equalBytes, toHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { CheckList, type Verification } from "../types.js";
import { NVIDIA_DEVICE_ROOT_PEM } from "./roots.js";
import { parseSpdmEvidence, type SpdmEvidence } from "./spdm.js";
import { parseRoots, splitPemChain, verifyChain } from "./x509.js";

export interface SpdmVerifyOptions {
  readonly evidence: Uint8Array;
  /** The device's certificate chain, leaf first (PEM bundle). */
  readonly certChainPem: string;
  /** The requester nonce the evidence must carry (32 bytes). */
  readonly expectedNonce?: Uint8Array;
  /** Defaults to NVIDIA's device root. The simulator passes its own root here. */
  readonly trustedRootsPem?: readonly string[];
  readonly now?: Date;
}

export interface SpdmVerification extends Verification {
  readonly evidence: SpdmEvidence | null;
}

let defaultRoots: X509Certificate[] | null = null;
function nvidiaRoots(): X509Certificate[] {
  defaultRoots ??= parseRoots([NVIDIA_DEVICE_ROOT_PEM]);
  return defaultRoots;
}

function rootsFor(pems: readonly string[] | undefined): X509Certificate[] {
  return pems === undefined ? nvidiaRoots() : parseRoots(pems);
}

/** Checks the P-384 signature with the leaf key; exported for the benchmark's baseline. */
export function spdmSignatureValid(ev: SpdmEvidence, leaf: X509Certificate): boolean {
  try {
    return cryptoVerify("sha384", ev.signedBytes, { key: leaf.publicKey, dsaEncoding: "ieee-p1363" }, ev.response.signature);
  } catch {
    return false;
  }
}

function gpuMeasurements(ev: SpdmEvidence, prefix: string): Record<string, Measurement> {
  const out: Record<string, Measurement> = {};
  for (const b of ev.response.blocks) out[`${prefix}.m${b.index}`] = toHex(b.value) as string as Measurement;
  return out;
}

function result(checks: CheckList, ev: SpdmEvidence | null, simulated: boolean, prefix: string): SpdmVerification {
  return {
    ...checks.toVerification({ tee: "nvidia-gpu", simulated, measurements: ev ? gpuMeasurements(ev, prefix) : {} }),
    evidence: ev,
  };
}

/**
 * Verifies one GPU's SPDM evidence. Returns a Verification listing every check; never
 * throws for bad evidence. `measurementPrefix` names measurements "<prefix>.m<index>".
 */
export function verifySpdmEvidence(opts: SpdmVerifyOptions, measurementPrefix = "gpu"): SpdmVerification {
  const checks = new CheckList();
  const now = opts.now ?? new Date();
  let ev: SpdmEvidence;
  try {
    ev = parseSpdmEvidence(opts.evidence);
    checks.pass("SPDM evidence parses", `${ev.response.blocks.length} measurement blocks`);
  } catch (e) {
    checks.fail("SPDM evidence parses", AttestCode.GPU_EVIDENCE_INVALID, isCloisterError(e) ? e.message : "unreadable evidence");
    return result(checks, null, false, measurementPrefix);
  }

  let chain: X509Certificate[] = [];
  try {
    chain = splitPemChain(opts.certChainPem);
  } catch {
    chain = [];
  }
  let simulated = false;
  const leaf = chain[0];
  if (!leaf) {
    checks.fail("device certificate chain", AttestCode.CERT_CHAIN_INVALID, "no readable certificate in the chain");
  } else {
    let roots: X509Certificate[];
    try {
      roots = rootsFor(opts.trustedRootsPem);
    } catch (cause) {
      throw new AttestationError(AttestCode.POLICY_INVALID, "a trusted root is not a readable PEM certificate", { cause });
    }
    const chainResult = verifyChain(chain, roots, now);
    if (chainResult.ok) {
      // Evidence anchored anywhere but NVIDIA's own root did not come from NVIDIA hardware.
      simulated = !nvidiaRoots().some((r) => r.raw.equals(chainResult.anchor.raw));
      checks.pass("device certificate chain", `to ${chainResult.anchor.subject.replace(/\n/g, ", ")}`);
    } else {
      checks.fail("device certificate chain", chainResult.code, chainResult.message);
    }
    if (spdmSignatureValid(ev, leaf)) checks.pass("SPDM signature (ECDSA P-384, SHA-384)");
    else checks.fail("SPDM signature (ECDSA P-384, SHA-384)", AttestCode.GPU_SIGNATURE_INVALID, "the measurements are not signed by the device key");
  }

  if (opts.expectedNonce === undefined) {
    checks.notChecked("nonce", "no expected nonce given: the evidence may be a replay");
  } else if (equalBytes(ev.request.nonce, opts.expectedNonce)) {
    checks.pass("nonce", toHex(ev.request.nonce));
  } else {
    checks.fail("nonce", AttestCode.GPU_NONCE_MISMATCH, `evidence nonce ${toHex(ev.request.nonce)} is not the expected one`);
  }
  return result(checks, ev, simulated, measurementPrefix);
}
