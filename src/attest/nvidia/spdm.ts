/**
 * NVIDIA GPU attestation evidence: one SPDM 1.1 GET_MEASUREMENTS request followed by the
 * device's MEASUREMENTS response, as the driver returns it (nvtrust's local verifier and
 * NEAR AI Cloud's `nvidia_payload` carry exactly these bytes).
 *
 * Layouts: DMTF DSP0274 SPDM 1.1.0 §10.11 (the GET_MEASUREMENTS request, the MEASUREMENTS
 * response, the measurement block and the DMTF measurement field tables; table numbers
 * shift between revisions, so we name them). Opaque data is NVIDIA's list of
 * {type u16, size u16, value} fields (nvtrust spdm_msrt_resp_msg.py).
 */
import { AttestCode } from "../codes.js";
import { ByteReader } from "./reader.js";
import { parseOpaqueData, type NvidiaOpaqueData } from "./opaque.js";

export const SPDM_GET_MEASUREMENTS = 0xe0;
export const SPDM_MEASUREMENTS = 0x60;
/** ECDSA P-384, raw r || s (DSP0274 §14, "signature" for TPM_ALG_ECDSA_ECC_NIST_P384). */
export const SPDM_P384_SIGNATURE_LENGTH = 96;

export interface SpdmRequest {
  readonly version: number;
  readonly code: number;
  readonly param1: number;
  readonly param2: number;
  readonly nonce: Uint8Array;
  /** Present when param1 bit 0 asks for a signature (SPDM 1.1 SlotIDParam). */
  readonly slotId: number | null;
}

export interface SpdmMeasurementBlock {
  readonly index: number;
  /** MeasurementSpecification: bit 0 = DMTF. */
  readonly spec: number;
  readonly size: number;
  /** DMTFSpecMeasurementValueType (bit 7 = raw bit stream, low bits = what was measured). */
  readonly dmtfType: number;
  readonly value: Uint8Array;
}

export interface SpdmResponse {
  readonly version: number;
  readonly code: number;
  readonly param1: number;
  readonly param2: number;
  readonly numberOfBlocks: number;
  readonly blocks: readonly SpdmMeasurementBlock[];
  /** The responder's own nonce (not the requester's). */
  readonly nonce: Uint8Array;
  readonly opaque: NvidiaOpaqueData;
  readonly signature: Uint8Array;
}

export interface SpdmEvidence {
  readonly request: SpdmRequest;
  readonly response: SpdmResponse;
  /** request || response-without-signature: the bytes the device signed (DSP0274 §10.11.3, L1/L2 transcript). */
  readonly signedBytes: Uint8Array;
}

const CODE = AttestCode.GPU_EVIDENCE_INVALID;

function parseRequest(r: ByteReader): SpdmRequest {
  const version = r.u8("request version");
  if (version < 0x10 || version > 0x1f) r.fail(`unsupported SPDM version 0x${version.toString(16)}`);
  const code = r.u8("request code");
  if (code !== SPDM_GET_MEASUREMENTS) r.fail(`request code 0x${code.toString(16)} is not GET_MEASUREMENTS`);
  const param1 = r.u8("request param1");
  const param2 = r.u8("request param2");
  if ((param1 & 1) === 0) r.fail("request does not ask for a signed response");
  const nonce = r.take(32, "request nonce");
  // SlotIDParam exists from SPDM 1.1 on.
  const slotId = version >= 0x11 ? r.u8("request slot id") : null;
  return { version, code, param1, param2, nonce, slotId };
}

function parseBlocks(record: Uint8Array, count: number): SpdmMeasurementBlock[] {
  const r = new ByteReader(record, CODE, "SPDM measurement record");
  const blocks: SpdmMeasurementBlock[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < count; i++) {
    const index = r.u8("block index");
    const spec = r.u8("block measurement specification");
    const size = r.u16("block measurement size");
    const body = new ByteReader(r.take(size, "block measurement"), CODE, `SPDM measurement block ${index}`);
    if ((spec & 1) === 0) body.fail("measurement is not in DMTF format");
    const dmtfType = body.u8("DMTF value type");
    const valueSize = body.u16("DMTF value size");
    const value = body.take(valueSize, "DMTF value");
    if (body.remaining !== 0) body.fail("trailing bytes after DMTF value");
    if (seen.has(index)) r.fail(`measurement index ${index} appears twice`);
    seen.add(index);
    blocks.push({ index, spec, size, dmtfType, value });
  }
  if (r.remaining !== 0) r.fail(`${r.remaining} bytes after the last measurement block`);
  return blocks;
}

function parseResponse(r: ByteReader): Omit<SpdmResponse, "signature"> {
  const version = r.u8("response version");
  const code = r.u8("response code");
  if (code !== SPDM_MEASUREMENTS) r.fail(`response code 0x${code.toString(16)} is not MEASUREMENTS`);
  const param1 = r.u8("response param1");
  const param2 = r.u8("response param2");
  const numberOfBlocks = r.u8("number of blocks");
  const recordLength = r.u24("measurement record length");
  const blocks = parseBlocks(r.take(recordLength, "measurement record"), numberOfBlocks);
  const nonce = r.take(32, "response nonce");
  const opaqueLength = r.u16("opaque length");
  const opaque = parseOpaqueData(r.take(opaqueLength, "opaque data"));
  return { version, code, param1, param2, numberOfBlocks, blocks, nonce, opaque };
}

/** Parses request || response bytes; throws AttestationError(GPU_EVIDENCE_INVALID) on anything malformed. */
export function parseSpdmEvidence(bytes: Uint8Array): SpdmEvidence {
  const r = new ByteReader(bytes, CODE, "SPDM evidence");
  const request = parseRequest(r);
  const head = parseResponse(r);
  if (head.version !== request.version) r.fail("response SPDM version differs from the request's");
  if (r.remaining !== SPDM_P384_SIGNATURE_LENGTH) {
    r.fail(`expected a ${SPDM_P384_SIGNATURE_LENGTH}-byte P-384 signature, found ${r.remaining} bytes`);
  }
  const signedEnd = r.offset;
  const signature = r.take(SPDM_P384_SIGNATURE_LENGTH, "signature");
  return { request, response: { ...head, signature }, signedBytes: bytes.subarray(0, signedEnd) };
}
