/**
 * The VCEK/VLEK certificate's AMD extensions (AMD "Versioned Chip Endorsement Key (VCEK)
 * Certificate and KDS Interface Specification", pub. 57230, Table 8): the TCB the key was
 * derived for and, for a VCEK, the chip it belongs to. A report must carry that same TCB
 * (REPORTED_TCB) and CHIP_ID, or the key was issued for another chip or firmware.
 */
import { certParts, derOctets, derString, derUint } from "./der.js";

export const VcekOid = {
  structVersion: "1.3.6.1.4.1.3704.1.1",
  productName: "1.3.6.1.4.1.3704.1.2",
  blSpl: "1.3.6.1.4.1.3704.1.3.1",
  teeSpl: "1.3.6.1.4.1.3704.1.3.2",
  snpSpl: "1.3.6.1.4.1.3704.1.3.3",
  ucodeSpl: "1.3.6.1.4.1.3704.1.3.8",
  /** Turin only. */
  fmcSpl: "1.3.6.1.4.1.3704.1.3.9",
  hwId: "1.3.6.1.4.1.3704.1.4",
  /** VLEK only: the cloud provider the key was issued to. */
  cspId: "1.3.6.1.4.1.3704.1.5",
} as const;

export interface VcekExtensions {
  readonly productName: string | null;
  readonly bootloader: number | null;
  readonly tee: number | null;
  readonly snp: number | null;
  readonly microcode: number | null;
  readonly fmc: number | null;
  /** 64-byte chip id (VCEK only). */
  readonly hwId: Uint8Array | null;
  readonly cspId: string | null;
}

/** Reads the AMD extensions from a DER certificate; absent or malformed ones are null. */
export function readVcekExtensions(der: Uint8Array): VcekExtensions {
  const exts = certParts(der)?.extensions;
  const ext = (oid: string): Uint8Array | null => exts?.get(oid) ?? null;
  const int = (oid: string): number | null => {
    const v = ext(oid);
    return v ? derUint(v) : null;
  };
  const str = (oid: string): string | null => {
    const v = ext(oid);
    return v ? derString(v) : null;
  };
  const hw = ext(VcekOid.hwId);
  return {
    productName: str(VcekOid.productName),
    bootloader: int(VcekOid.blSpl),
    tee: int(VcekOid.teeSpl),
    snp: int(VcekOid.snpSpl),
    microcode: int(VcekOid.ucodeSpl),
    fmc: int(VcekOid.fmcSpl),
    // Some KDS versions wrap hwID in an OCTET STRING, older ones store the raw 64 bytes.
    hwId: hw ? (derOctets(hw) ?? (hw.length === 64 ? hw : null)) : null,
    cspId: str(VcekOid.cspId),
  };
}
