/**
 * Simulated NVIDIA Reference Integrity Manifests for the simulated GPU (gpu.ts): a
 * "driver" and a "VBIOS" SWID tag in the TCG RIM layout NVIDIA uses, whose active
 * measurements are the simulated GPU's, enveloped-signed with XMLDSig ECDSA-SHA384 by the
 * SIMULATED RIM signing key under the simulated GPU root. A simulated node serves them as
 * a hardware node serves NVIDIA's, so the verifier's RIM chain, signature and comparison
 * code runs in tests. They prove nothing.
 */
import { sign as cryptoSign, createPrivateKey, type KeyLike, type KeyObject } from "node:crypto";
import { SignedXml, type SignatureAlgorithm } from "xml-crypto";
import { toHex } from "../../util/bytes.js";
import { C14N11, ECDSA_SHA384, SHA384, withRimAlgorithms } from "../nvidia/xmldsig.js";
import { SIMULATED_RIM_SIGNING_CERT_PEM, SIMULATED_RIM_SIGNING_KEY_PEM } from "./collateral-roots.js";
import { simulatedGpuMeasurement } from "./gpu.js";
import { SIMULATED_GPU_ROOT_CERT_PEM } from "./roots.js";

/** SPDM blocks 1..8 are RIM indices 0..7 (nvtrust: measurement_list[index - 1]). */
const DRIVER_INDICES = [0, 1, 2, 3];
const VBIOS_INDICES = [4, 5, 6, 7];
const RIM_COUNT = 16;

class EcdsaSha384Signer implements SignatureAlgorithm {
  getSignature(signedInfo: string, privateKey: KeyLike): string {
    return cryptoSign("sha384", Buffer.from(signedInfo, "utf8"), { key: typeof privateKey === "string" ? createPrivateKey(privateKey) : (privateKey as KeyObject), dsaEncoding: "ieee-p1363" }).toString("base64");
  }
  verifySignature(): boolean {
    return false;
  }
  getAlgorithmName(): string {
    return ECDSA_SHA384;
  }
}

export interface SimulatedRims {
  readonly driver: string;
  readonly vbios: string;
}

function swid(kind: "driver" | "vbios", active: readonly number[], measurement: (index: number) => Uint8Array): string {
  const resources: string[] = [];
  for (let i = 0; i < RIM_COUNT; i++) {
    const on = active.includes(i);
    const hash = on ? toHex(measurement(i + 1)) : "00".repeat(48);
    resources.push(`<ns0:Resource type="Measurement" index="${i}" active="${on ? "True" : "False"}" alternatives="1" ns2:Hash0="${hash}" name="Measurement_${i}" size="48"/>`);
  }
  const version = kind === "driver" ? "0.0.0-SIMULATED" : "00.00.00.00.00-SIMULATED";
  return (
    `<SoftwareIdentity xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd" xmlns:ns0="http://standards.iso.org/iso/19770/-2/2015/schema.xsd" xmlns:ns2="http://www.w3.org/2001/04/xmlenc#sha384" corpus="false" name="SIMULATED-GPU" patch="false" supplemental="false" tagId="cloister-simulated-${kind}-rim" version="1.0" tagVersion="0">` +
    `<ns0:Entity name="Cloister SIMULATED (NOT SECURE)" role="softwareCreator tagCreator"/>` +
    `<ns0:Meta colloquialVersion="${version}" edition="${kind === "driver" ? "GPU" : "VBIOS"}" product="SIMULATED-GPU" revision="r1"/>` +
    `<ns0:Payload>${resources.join("")}</ns0:Payload></SoftwareIdentity>`
  );
}

function signRim(xml: string): string {
  const sig = withRimAlgorithms(
    new SignedXml({ privateKey: SIMULATED_RIM_SIGNING_KEY_PEM, publicCert: SIMULATED_RIM_SIGNING_CERT_PEM + SIMULATED_GPU_ROOT_CERT_PEM, signatureAlgorithm: ECDSA_SHA384, canonicalizationAlgorithm: C14N11 }),
  );
  sig.SignatureAlgorithms[ECDSA_SHA384] = EcdsaSha384Signer;
  sig.addReference({ xpath: "/*", transforms: ["http://www.w3.org/2000/09/xmldsig#enveloped-signature", C14N11], digestAlgorithm: SHA384, uri: "", isEmptyUri: true });
  sig.computeSignature(xml, { prefix: "ds", location: { reference: "/*", action: "append" } });
  return sig.getSignedXml();
}

/** The simulated GPU's driver and VBIOS RIMs; `measurement` lets tests make RIMs that do not match. */
export function buildSimulatedRims(measurement: (index: number) => Uint8Array = simulatedGpuMeasurement): SimulatedRims {
  return { driver: signRim(swid("driver", DRIVER_INDICES, measurement)), vbios: signRim(swid("vbios", VBIOS_INDICES, measurement)) };
}
