/**
 * TCB_VERSION: the 64-bit security patch levels in SNP reports and VCEK certificates.
 * Milan and Genoa (SEV-SNP ABI 56860, "TCB_VERSION Structure"): byte 0 BOOT_LOADER,
 * 1 TEE, 6 SNP, 7 MICROCODE. Turin (ABI rev 1.57+): byte 0 FMC, 1 BOOT_LOADER, 2 TEE,
 * 3 SNP, 7 MICROCODE. The VCEK's extensions (AMD VCEK spec 57230, Table 8) repeat them.
 */
export type SnpProduct = "Milan" | "Genoa" | "Turin";

export interface SnpTcb {
  readonly raw: bigint;
  readonly fmc: number | null;
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
}

export function decodeTcb(raw: bigint, product: SnpProduct): SnpTcb {
  const byte = (i: number): number => Number((raw >> BigInt(8 * i)) & 0xffn);
  if (product === "Turin") return { raw, fmc: byte(0), bootloader: byte(1), tee: byte(2), snp: byte(3), microcode: byte(7) };
  return { raw, fmc: null, bootloader: byte(0), tee: byte(1), snp: byte(6), microcode: byte(7) };
}

/** CPUID family/model -> product (AMD family 19h models 0-Fh Milan, 10h-1Fh and A0h-AFh (Bergamo, Siena) Genoa; family 1Ah Turin). */
export function productFromCpuid(family: number, model: number): SnpProduct | null {
  if (family === 0x19 && model <= 0x0f) return "Milan";
  if (family === 0x19 && ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf))) return "Genoa";
  if (family === 0x1a) return "Turin";
  return null;
}

export function formatTcb(t: SnpTcb): string {
  const fmc = t.fmc === null ? "" : `fmc${t.fmc}/`;
  return `${fmc}bl${t.bootloader}/tee${t.tee}/snp${t.snp}/ucode${t.microcode}`;
}
