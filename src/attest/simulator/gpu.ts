/**
 * Simulated NVIDIA GPU evidence in the real wire format: an SPDM 1.1 GET_MEASUREMENTS
 * request and its signed MEASUREMENTS response (DMTF DSP0274 v1.1 §10.11), signed with
 * ECDSA P-384 over SHA-384(request || response-without-signature), raw r||s, the way
 * Hopper GPUs sign it; wrapped as NEAR AI Cloud's nvidia_payload JSON. The device
 * certificate chains to the Cloister SIMULATED GPU root, never to NVIDIA's.
 */
import { sha384 } from "@noble/hashes/sha2.js";
import { concatBytes, toHex, utf8 } from "../../util/bytes.js";
import { SIMULATED_GPU_LEAF_CERT_PEM, SIMULATED_GPU_LEAF_KEY_PEM, SIMULATED_GPU_ROOT_CERT_PEM } from "./roots.js";
import { privateKeyFromPem, signRaw } from "./sign.js";

const SPDM_VERSION_11 = 0x11;
const GET_MEASUREMENTS = 0xe0;
const MEASUREMENTS = 0x60;
/** Param1 bit 0: a signature is requested; Param2 0xFF: all measurement blocks. */
const SIGNATURE_REQUESTED = 0x01;
const ALL_MEASUREMENTS = 0xff;
const MEASUREMENT_SPEC_DMTF = 0x01;
const BLOCK_COUNT = 8;

/** NVIDIA opaque-data TLV types (as seen in Hopper evidence): 3 = driver version, 6 = VBIOS. */
const OPAQUE_DRIVER_VERSION = 3;
const OPAQUE_VBIOS_VERSION = 6;

function u16(v: number): Uint8Array {
  return new Uint8Array([v & 0xff, (v >>> 8) & 0xff]);
}

function u24(v: number): Uint8Array {
  return new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff]);
}

function tlv(type: number, value: Uint8Array): Uint8Array {
  return concatBytes(u16(type), u16(value.length), value);
}

/** The fixed simulated measurement of block `index` (SHA-384 of a label). */
export function simulatedGpuMeasurement(index: number): Uint8Array {
  return sha384(utf8.encode(`cloister simulated gpu measurement ${index}`));
}

function measurementBlock(index: number): Uint8Array {
  const digest = simulatedGpuMeasurement(index);
  // DMTF measurement: value type u8 (0x01, as Hopper reports), value size u16, value.
  const dmtf = concatBytes(new Uint8Array([0x01]), u16(digest.length), digest);
  return concatBytes(new Uint8Array([index, MEASUREMENT_SPEC_DMTF]), u16(dmtf.length), dmtf);
}

/** SPDM request || response bytes for this 32-byte nonce. */
export function buildSimulatedSpdmEvidence(nonce: Uint8Array): Uint8Array {
  if (nonce.length !== 32) throw new RangeError("the SPDM nonce is 32 bytes");
  const request = concatBytes(new Uint8Array([SPDM_VERSION_11, GET_MEASUREMENTS, SIGNATURE_REQUESTED, ALL_MEASUREMENTS]), nonce, new Uint8Array([0]));
  const blocks: Uint8Array[] = [];
  for (let i = 1; i <= BLOCK_COUNT; i++) blocks.push(measurementBlock(i));
  const record = concatBytes(...blocks);
  const responderNonce = sha384(concatBytes(utf8.encode("cloister simulated responder nonce"), nonce)).subarray(0, 32);
  const opaque = concatBytes(tlv(OPAQUE_DRIVER_VERSION, utf8.encode("0.0.0-SIMULATED\0")), tlv(OPAQUE_VBIOS_VERSION, new Uint8Array(8)));
  const unsigned = concatBytes(
    new Uint8Array([SPDM_VERSION_11, MEASUREMENTS, 0, 0, BLOCK_COUNT]),
    u24(record.length),
    record,
    responderNonce,
    u16(opaque.length),
    opaque,
  );
  const signature = signRaw(privateKeyFromPem(SIMULATED_GPU_LEAF_KEY_PEM), "sha384", concatBytes(request, unsigned));
  return concatBytes(request, unsigned, signature);
}

/** NEAR's nvidia_payload: {nonce, arch, evidence_list:[{certificate, evidence, arch}]}, base64 fields. */
export function buildSimulatedGpuPayload(nonce: Uint8Array): string {
  const evidence = Buffer.from(buildSimulatedSpdmEvidence(nonce)).toString("base64");
  const certificate = Buffer.from(SIMULATED_GPU_LEAF_CERT_PEM + SIMULATED_GPU_ROOT_CERT_PEM, "utf8").toString("base64");
  return JSON.stringify({ nonce: toHex(nonce), arch: "HOPPER", evidence_list: [{ certificate, evidence, arch: "HOPPER" }] });
}
