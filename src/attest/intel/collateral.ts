/**
 * DCAP collateral as dcap-qvl's QuoteCollateralV3 JSON (FACTS.md): TCB Info and QE
 * Identity as the exact signed JSON text Intel's PCS returned (never re-serialised: the
 * signature is over those bytes), their ECDSA signatures (hex r||s), the PEM issuer
 * chains, and both CRLs as hex DER.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";

const hexString = z.string().regex(/^(?:[0-9a-fA-F]{2})*$/, "must be hex");
const pem = z.string().includes("-----BEGIN CERTIFICATE-----");

export const CollateralSchema = z.object({
  tcb_info: z.string().min(2),
  tcb_info_signature: hexString,
  tcb_info_issuer_chain: pem,
  qe_identity: z.string().min(2),
  qe_identity_signature: hexString,
  qe_identity_issuer_chain: pem,
  pck_crl: hexString.min(2),
  root_ca_crl: hexString.min(2),
  pck_crl_issuer_chain: pem,
});

export type Collateral = z.infer<typeof CollateralSchema>;

export function parseCollateral(value: unknown): Collateral {
  const r = CollateralSchema.safeParse(value);
  if (!r.success) {
    const where = r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new AttestationError(AttestCode.COLLATERAL_INVALID, `collateral is not DCAP QuoteCollateralV3 JSON (${where})`);
  }
  return r.data;
}

/** Reads collateral saved as our JSON (the shape above; extra fields are ignored). */
export async function loadCollateralFile(path: string): Promise<Collateral> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new AttestationError(AttestCode.COLLATERAL_MISSING, `cannot read collateral file ${path}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new AttestationError(AttestCode.COLLATERAL_INVALID, `collateral file ${path} is not JSON`, { cause });
  }
  return parseCollateral(json);
}
