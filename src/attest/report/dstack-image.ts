/**
 * dstack's OS image identity in vm_config (dstack "lite" / split measurement material):
 *   os_image_hash = SHA-256(sha256sum.txt)                 (the image's checksum file)
 *   sha256sum.txt lists `<SHA-256>  measurement.<tdx|snp>.cbor`
 *   measurement.tdx.cbor: {version, image{cmdline_sha384, kernel_authenticode, initrd_sha384},
 *                          tdvf{ovmf, mrtd{single_pass, two_pass}, td_hob}}
 * (Dstack-TEE/dstack verifier, tdx_measurement / sev_snp_measurement; both byte strings are
 * base64 in the JSON.) So MRTD can be checked against the image offline: the quote's MRTD
 * must be one of the image's expected values. RTMR1/2 (kernel, cmdline, initrd through
 * firmware events) and the SNP launch digest need the firmware model and are not recomputed.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { z } from "zod";
import { AttestationError } from "../../errors.js";
import { toHex, utf8 } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { decodeCbor, type Cbor } from "./cbor.js";

const material = z.object({ checksum_file: z.string(), measurement: z.string() });
const vmConfigSchema = z
  .object({
    os_image_hash: z.string().regex(/^[0-9a-fA-F]{64}$/),
    tdx_measurement: material.optional(),
    sev_snp_measurement: z.union([material, z.string()]).optional(),
    mr_config: z.string().optional(),
  })
  .passthrough();
export type DstackVmConfig = z.infer<typeof vmConfigSchema>;

const fail = (msg: string): never => {
  throw new AttestationError(AttestCode.OS_IMAGE_MISMATCH, msg);
};

export function parseVmConfig(text: string): DstackVmConfig {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (cause) {
    throw new AttestationError(AttestCode.EVIDENCE_UNREADABLE, "dstack vm_config is not JSON", { cause });
  }
  const r = vmConfigSchema.safeParse(v);
  if (!r.success) throw new AttestationError(AttestCode.EVIDENCE_UNREADABLE, `dstack vm_config: ${r.error.issues[0]?.message ?? "invalid"}`);
  return r.data;
}

/** The image measurement document, after checking it is the one os_image_hash names. */
export function imageMeasurement(cfg: DstackVmConfig, tee: "tdx" | "snp"): Record<string, Cbor> {
  let m = tee === "tdx" ? cfg.tdx_measurement : cfg.sev_snp_measurement;
  if (typeof m === "string") m = material.parse(JSON.parse(m));
  if (!m) return fail(`vm_config has no ${tee === "tdx" ? "tdx_measurement" : "sev_snp_measurement"}`);
  const checksum = new Uint8Array(Buffer.from(m.checksum_file, "base64"));
  const doc = new Uint8Array(Buffer.from(m.measurement, "base64"));
  if (toHex(sha256(checksum)) !== cfg.os_image_hash.toLowerCase()) fail("SHA-256 of the checksum file is not vm_config's os_image_hash");
  const name = `measurement.${tee}.cbor`;
  const line = utf8.decode(checksum).split("\n").find((l) => l.trim().endsWith(name));
  const listed = line?.trim().split(/\s+/)[0]?.toLowerCase();
  if (!listed) fail(`the checksum file does not list ${name}`);
  if (listed !== toHex(sha256(doc))) fail(`${name} is not the file the checksum file lists`);
  const v = decodeCbor(doc);
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) return fail(`${name} is not a CBOR map`);
  return v;
}

/** The MRTD values the image allows (TDVF single- and two-pass). */
export function imageMrtds(doc: Record<string, Cbor>): string[] {
  const tdvf = doc["tdvf"];
  const mrtd = tdvf && typeof tdvf === "object" && !Array.isArray(tdvf) && !(tdvf instanceof Uint8Array) ? tdvf["mrtd"] : undefined;
  if (!mrtd || typeof mrtd !== "object" || Array.isArray(mrtd) || mrtd instanceof Uint8Array) return [];
  return Object.values(mrtd).flatMap((x) => (x instanceof Uint8Array && x.length === 48 ? [toHex(x)] : []));
}
