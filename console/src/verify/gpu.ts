/**
 * GPU evidence (nvidia_payload, docs/protocol.md) checked in the browser, as
 * src/attest/nvidia/{payload,verify-spdm}.ts do it with node:crypto: the payload answers our
 * nonce, each GPU's device chain ends at NVIDIA's device root (or the SIMULATED GPU root,
 * marked so), its SPDM measurements are signed (ECDSA P-384 over SHA-384 of request ||
 * response-without-signature) by the leaf key, and the SPDM request carries the payload
 * nonce. NVIDIA's reference values (RIMs) and certificate revocation (OCSP) are not checked
 * here: they stay the named unchecked items `gpu-rim` and `gpu-ocsp`, which fail unless accepted.
 */
import { AttestCode } from "../../../src/attest/codes.js";
import { NVIDIA_DEVICE_ROOT_PEM } from "../../../src/attest/nvidia/roots.js";
import { parseSpdmEvidence } from "../../../src/attest/nvidia/spdm.js";
import type { ReportState } from "../../../src/attest/report/result.js";
import { SIMULATED_GPU_ROOTS_PEM } from "../../../src/attest/simulator/roots.js";
import type { Measurement } from "../../../src/types.js";
import { fromHex, toHex, utf8 } from "../../../src/util/bytes.js";
import { ecdsaVerify, parseCert, pemBlocks, sameBytes, verifyChain, type Cert } from "./x509.js";

let roots: Cert[] | undefined;
/** Index 0 is NVIDIA's; the rest are the simulator's. */
function gpuRoots(): Cert[] {
  roots ??= [NVIDIA_DEVICE_ROOT_PEM, ...SIMULATED_GPU_ROOTS_PEM].flatMap((p) => pemBlocks(p).map(parseCert));
  return roots;
}

function base64(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(s)) return null;
  try {
    return Uint8Array.from(atob(s.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function pemOf(field: string): string | null {
  if (field.includes("-----BEGIN CERTIFICATE-----")) return field;
  const raw = base64(field);
  const text = raw ? utf8.decode(raw) : "";
  return text.includes("-----BEGIN CERTIFICATE-----") ? text : null;
}

interface Item {
  readonly certificate: string;
  readonly evidence: string;
}

/** Checks the report's GPU evidence into the state; returns whether any GPU chained to the simulated root. */
export function checkGpuInBrowser(s: ReportState, payloadJson: string, nonce: string, allowSimulated: boolean, now: Date): void {
  const list = s.list;
  let payload: { nonce?: unknown; evidence_list?: unknown };
  try {
    payload = JSON.parse(payloadJson) as typeof payload;
  } catch {
    list.fail("GPU: payload parses", AttestCode.GPU_EVIDENCE_INVALID, "nvidia_payload is not JSON");
    return;
  }
  const items = Array.isArray(payload.evidence_list) ? (payload.evidence_list as unknown[]) : [];
  if (typeof payload.nonce !== "string" || !/^(0x)?[0-9a-fA-F]{64}$/.test(payload.nonce) || items.length === 0 || !items.every((i): i is Item => typeof (i as Item)?.certificate === "string" && typeof (i as Item)?.evidence === "string")) {
    list.fail("GPU: payload parses", AttestCode.GPU_EVIDENCE_INVALID, "nvidia_payload has the wrong shape");
    return;
  }
  list.pass("GPU: payload parses", `${items.length} GPU(s)`);
  const payloadNonce = fromHex(payload.nonce.replace(/^0x/, ""));
  if (toHex(payloadNonce) === nonce) list.pass("GPU: payload nonce", nonce);
  else list.fail("GPU: payload nonce", AttestCode.GPU_NONCE_MISMATCH, `payload nonce ${toHex(payloadNonce)} is not ours`);

  let simulated = false;
  items.forEach((item, i) => {
    const name = `GPU: gpu${i}`;
    const pem = pemOf(item.certificate);
    const evidence = base64(item.evidence);
    if (!pem || !evidence) {
      list.fail(`${name}: evidence decodes`, AttestCode.GPU_EVIDENCE_INVALID, "certificate or evidence is not base64/PEM");
      return;
    }
    let ev;
    try {
      ev = parseSpdmEvidence(evidence);
      list.pass(`${name}: SPDM evidence parses`, `${ev.response.blocks.length} measurement blocks`);
    } catch (e) {
      list.fail(`${name}: SPDM evidence parses`, AttestCode.GPU_EVIDENCE_INVALID, e instanceof Error ? e.message : "unreadable evidence");
      return;
    }
    let chain: Cert[] = [];
    try {
      chain = pemBlocks(pem).map(parseCert);
    } catch {
      chain = [];
    }
    const leaf = chain[0];
    if (!leaf) {
      list.fail(`${name}: device certificate chain`, AttestCode.CERT_CHAIN_INVALID, "no readable certificate in the chain");
    } else {
      try {
        const out = verifyChain(chain, gpuRoots(), now);
        simulated ||= out.rootIndex > 0;
        list.pass(`${name}: device certificate chain`, `to ${out.root.commonName}`);
      } catch (e) {
        list.fail(`${name}: device certificate chain`, AttestCode.CERT_CHAIN_INVALID, e instanceof Error ? e.message : "bad chain");
      }
      if (leaf.curve === "p384" && ecdsaVerify("p384", "sha384", leaf.publicKey, ev.signedBytes, ev.response.signature, false)) list.pass(`${name}: SPDM signature (ECDSA P-384, SHA-384)`);
      else list.fail(`${name}: SPDM signature (ECDSA P-384, SHA-384)`, AttestCode.GPU_SIGNATURE_INVALID, "the measurements are not signed by the device key");
    }
    if (sameBytes(ev.request.nonce, payloadNonce)) list.pass(`${name}: nonce`, toHex(ev.request.nonce));
    else list.fail(`${name}: nonce`, AttestCode.GPU_NONCE_MISMATCH, `evidence nonce ${toHex(ev.request.nonce)} is not the payload's`);
    for (const b of ev.response.blocks) s.measurements[`gpu${i}.m${b.index}`] = toHex(b.value) as string as Measurement;
  });
  if (simulated) {
    s.simulated = true;
    if (!allowSimulated) list.fail("GPU: not simulated", AttestCode.SIMULATED_NOT_ALLOWED, "the GPU evidence is signed under the Cloister SIMULATED GPU root");
  }
  list.notChecked("GPU: reference measurements (RIM)", "NVIDIA's signed reference values are not compared in this browser yet", "gpu-rim");
  list.notChecked("GPU: certificate revocation (OCSP)", "NVIDIA's OCSP answers are not checked in this browser yet", "gpu-ocsp");
}
