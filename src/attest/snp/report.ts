/**
 * AMD SEV-SNP ATTESTATION_REPORT (1184 bytes), SEV Secure Nested Paging Firmware ABI
 * Specification (AMD pub. 56860) rev 1.55, Table 22 "ATTESTATION_REPORT Structure" (the same
 * table is numbered 21 in rev 1.51 and 23 in rev 1.57); signature layout: same spec, "ECDSA
 * P-384 with SHA-384 Signature" table (r, s as 72-byte little-endian fields).
 * Versions 2 (Milan firmware before 1.55), 3 (adds CPUID family/model/stepping at 0x188)
 * and 5 (Turin; adds the mitigation vectors at 0x1F8) share every offset used here.
 * All integers are little-endian.
 */
import { AttestationError } from "../../errors.js";
import { toHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { decodeTcb, productFromCpuid, type SnpProduct, type SnpTcb } from "./tcb.js";

export const SNP_REPORT_SIZE = 0x4a0;
/** The signature covers bytes 0x00..0x29F (Table 22, SIGNATURE at 0x2A0). */
export const SNP_SIGNED_LENGTH = 0x2a0;
/** SIGNATURE_ALGO 1 = ECDSA P-384 with SHA-384 (ABI "Signature Algorithm Encodings" table). */
export const SNP_SIG_ALGO_ECDSA_P384_SHA384 = 1;

/** Which key signed the report (Table 22, offset 0x48 bits 4:2). */
export type SnpSigningKey = "vcek" | "vlek" | "none" | "reserved";

export interface SnpPolicy {
  readonly raw: bigint;
  readonly abiMinor: number;
  readonly abiMajor: number;
  readonly smt: boolean;
  readonly migrateMa: boolean;
  /** Bit 19: the hypervisor may debug the guest (read and write its memory). */
  readonly debug: boolean;
  readonly singleSocket: boolean;
}

export interface SnpReport {
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: SnpPolicy;
  readonly familyId: Uint8Array;
  readonly imageId: Uint8Array;
  readonly vmpl: number;
  readonly signatureAlgo: number;
  readonly currentTcb: SnpTcb;
  readonly platformInfo: bigint;
  readonly authorKeyEn: boolean;
  readonly maskChipKey: boolean;
  readonly signingKey: SnpSigningKey;
  readonly reportData: Uint8Array;
  readonly measurement: Uint8Array;
  readonly hostData: Uint8Array;
  readonly idKeyDigest: Uint8Array;
  readonly authorKeyDigest: Uint8Array;
  readonly reportId: Uint8Array;
  readonly reportIdMa: Uint8Array;
  readonly reportedTcb: SnpTcb;
  /** CPUID Fn0000_0001 family/model/stepping (v3+; null in v2). */
  readonly cpuid: { readonly family: number; readonly model: number; readonly stepping: number } | null;
  /** Product from CPUID (v3+), else null. */
  readonly product: SnpProduct | null;
  readonly chipId: Uint8Array;
  readonly committedTcb: SnpTcb;
  readonly currentVersion: string;
  readonly committedVersion: string;
  readonly launchTcb: SnpTcb;
  /** r and s as 48-byte big-endian integers (the report stores 72-byte little-endian fields). */
  readonly signatureR: Uint8Array;
  readonly signatureS: Uint8Array;
  readonly signedBytes: Uint8Array;
  readonly raw: Uint8Array;
}

function u32(b: Uint8Array, o: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(o, true);
}

function u64(b: Uint8Array, o: number): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(o, true);
}

/** A 72-byte little-endian component -> 48-byte big-endian; the top 24 bytes must be zero. */
function sigComponent(b: Uint8Array, o: number, name: string): Uint8Array {
  const le = b.subarray(o, o + 72);
  if (le.subarray(48).some((x) => x !== 0)) throw new AttestationError(AttestCode.QUOTE_MALFORMED, `SNP signature ${name} does not fit 48 bytes`);
  return Uint8Array.from(le.subarray(0, 48)).reverse();
}

function policy(raw: bigint): SnpPolicy {
  const bit = (n: number): boolean => ((raw >> BigInt(n)) & 1n) === 1n;
  return {
    raw,
    abiMinor: Number(raw & 0xffn),
    abiMajor: Number((raw >> 8n) & 0xffn),
    smt: bit(16),
    migrateMa: bit(18),
    debug: bit(19),
    singleSocket: bit(20),
  };
}

const SIGNING_KEYS: readonly SnpSigningKey[] = ["vcek", "vlek", "reserved", "reserved", "reserved", "reserved", "reserved", "none"];

/**
 * Parses a raw report. `product` picks the TCB_VERSION layout (Turin's differs); when absent,
 * v3+ reports name their product through CPUID, and v2 reports are Milan or Genoa (same layout).
 */
export function parseSnpReport(bytes: Uint8Array, product?: SnpProduct): SnpReport {
  if (!(bytes instanceof Uint8Array)) throw new AttestationError(AttestCode.QUOTE_MALFORMED, "SNP report must be bytes");
  if (bytes.length !== SNP_REPORT_SIZE) {
    throw new AttestationError(AttestCode.QUOTE_MALFORMED, `SNP report must be ${SNP_REPORT_SIZE} bytes, got ${bytes.length}`);
  }
  const version = u32(bytes, 0x00);
  if (version < 2 || version > 5) throw new AttestationError(AttestCode.QUOTE_VERSION_UNSUPPORTED, `SNP report version ${version} is not supported (2..5)`);
  const flags = u32(bytes, 0x48);
  const cpuid = version >= 3 ? { family: bytes[0x188] as number, model: bytes[0x189] as number, stepping: bytes[0x18a] as number } : null;
  const fromCpuid = cpuid ? productFromCpuid(cpuid.family, cpuid.model) : null;
  const layout = product ?? fromCpuid ?? "Genoa";
  const ver = (o: number): string => `${bytes[o + 2]}.${bytes[o + 1]}.${bytes[o]}`;
  const copy = (o: number, n: number): Uint8Array => bytes.slice(o, o + n);
  return {
    version,
    guestSvn: u32(bytes, 0x04),
    policy: policy(u64(bytes, 0x08)),
    familyId: copy(0x10, 16),
    imageId: copy(0x20, 16),
    vmpl: u32(bytes, 0x30),
    signatureAlgo: u32(bytes, 0x34),
    currentTcb: decodeTcb(u64(bytes, 0x38), layout),
    platformInfo: u64(bytes, 0x40),
    authorKeyEn: (flags & 1) === 1,
    maskChipKey: (flags & 2) === 2,
    signingKey: SIGNING_KEYS[(flags >> 2) & 7] ?? "reserved",
    reportData: copy(0x50, 64),
    measurement: copy(0x90, 48),
    hostData: copy(0xc0, 32),
    idKeyDigest: copy(0xe0, 48),
    authorKeyDigest: copy(0x110, 48),
    reportId: copy(0x140, 32),
    reportIdMa: copy(0x160, 32),
    reportedTcb: decodeTcb(u64(bytes, 0x180), layout),
    cpuid,
    product: fromCpuid,
    chipId: copy(0x1a0, 64),
    committedTcb: decodeTcb(u64(bytes, 0x1e0), layout),
    currentVersion: ver(0x1e8),
    committedVersion: ver(0x1ec),
    launchTcb: decodeTcb(u64(bytes, 0x1f0), layout),
    signatureR: sigComponent(bytes, 0x2a0, "R"),
    signatureS: sigComponent(bytes, 0x2a0 + 72, "S"),
    signedBytes: bytes.slice(0, SNP_SIGNED_LENGTH),
    raw: bytes.slice(),
  };
}

/** Hex of a report field, for display and for Verification.measurements. */
export function snpHex(b: Uint8Array): string {
  return toHex(b);
}
