/**
 * NVIDIA's opaque data in an SPDM MEASUREMENTS response: a list of
 * {DataType u16 LE, DataSize u16 LE, Data} fields. Type numbers from nvtrust's
 * spdm_msrt_resp_msg.py (OPAQUE_FIELD_ID_*); newer drivers add types we keep as raw bytes.
 */
import { AttestCode } from "../codes.js";
import { ByteReader } from "./reader.js";

export const OpaqueField = {
  CERT_ISSUER_NAME: 1,
  CERT_AUTHORITY_KEY_IDENTIFIER: 2,
  DRIVER_VERSION: 3,
  GPU_INFO: 4,
  SKU: 5,
  VBIOS_VERSION: 6,
  MANUFACTURER_ID: 7,
  TAMPER_DETECTION: 8,
  SMC: 9,
  VPR: 10,
  NVDEC0_STATUS: 11,
  MSRSCNT: 12,
  CPRINFO: 13,
  BOARD_ID: 14,
  CHIP_SKU: 15,
  CHIP_SKU_MOD: 16,
  PROJECT: 17,
  PROJECT_SKU: 18,
  PROJECT_SKU_MOD: 19,
} as const;

export interface NvidiaOpaqueData {
  /** Every field, by type number, in order of appearance. */
  readonly fields: ReadonlyArray<{ readonly type: number; readonly value: Uint8Array }>;
  /** e.g. "550.90.07" (OPAQUE_FIELD_ID_DRIVER_VERSION, NUL-terminated ASCII). */
  readonly driverVersion: string | null;
  /** e.g. "96.00.9F.00.01" (OPAQUE_FIELD_ID_VBIOS_VERSION, formatted as nvtrust does). */
  readonly vbiosVersion: string | null;
  readonly project: string | null;
  readonly projectSku: string | null;
  readonly chipSku: string | null;
}

function ascii(value: Uint8Array | undefined): string | null {
  if (!value) return null;
  let s = "";
  for (const b of value) {
    if (b === 0) break;
    s += String.fromCharCode(b);
  }
  return s;
}

/**
 * nvtrust's format_vbios_version: the 8 bytes read as a little-endian number; its high
 * 32 bits give "aa.bb.cc.dd" and byte 4 the final ".ee" -> bytes [3].[2].[1].[0].[4].
 */
function vbios(value: Uint8Array | undefined): string | null {
  if (!value || value.length < 5) return null;
  const hex = (i: number): string => (value[i] ?? 0).toString(16).padStart(2, "0").toUpperCase();
  return [hex(3), hex(2), hex(1), hex(0), hex(4)].join(".");
}

export function parseOpaqueData(bytes: Uint8Array): NvidiaOpaqueData {
  const r = new ByteReader(bytes, AttestCode.GPU_EVIDENCE_INVALID, "SPDM opaque data");
  const fields: Array<{ type: number; value: Uint8Array }> = [];
  while (r.remaining > 0) {
    const type = r.u16("opaque field type");
    const size = r.u16("opaque field size");
    fields.push({ type, value: r.take(size, `opaque field ${type}`) });
  }
  const get = (t: number): Uint8Array | undefined => fields.find((f) => f.type === t)?.value;
  return {
    fields,
    driverVersion: ascii(get(OpaqueField.DRIVER_VERSION)),
    vbiosVersion: vbios(get(OpaqueField.VBIOS_VERSION)),
    project: ascii(get(OpaqueField.PROJECT)),
    projectSku: ascii(get(OpaqueField.PROJECT_SKU)),
    chipSku: ascii(get(OpaqueField.CHIP_SKU)),
  };
}
