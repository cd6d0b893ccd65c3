/**
 * TCB Info and QE Identity (Intel "SGX and TDX PCS API" v4, "TCB Info" and "Enclave
 * Identity" JSON): their validity windows and ECDSA signatures by the Intel SGX TCB
 * Signing certificate, which chains to the root. Parsed with zod from the verbatim text.
 */
import type { X509Certificate } from "node:crypto";
import { z } from "zod";
import { AttestationError } from "../../errors.js";
import { fromHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { parsePemChain, publicKeyOf, verifyChain } from "./certs.js";
import { ecdsaP256Verify } from "./signatures.js";

const svn = z.object({ svn: z.number().int().nonnegative() });
const date = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "not a date");
const isvLevels = z.array(
  z.object({ tcb: z.object({ isvsvn: z.number().int().nonnegative() }), tcbStatus: z.string(), advisoryIDs: z.array(z.string()).optional() }),
);
/** TCB Info v3 (TDX): the TDX module's signer and attributes (PCS API v4, "tdxModule"). */
const tdxModule = z.object({
  mrsigner: z.string().regex(/^[0-9a-fA-F]{96}$/),
  attributes: z.string().regex(/^[0-9a-fA-F]{16}$/),
  attributesMask: z.string().regex(/^[0-9a-fA-F]{16}$/),
});
/** TCB Info v3 (TDX): one identity per TDX module major version, with its own TCB levels. */
const tdxModuleIdentity = tdxModule.extend({ id: z.string(), tcbLevels: isvLevels });
export type TdxModuleIdentity = z.infer<typeof tdxModuleIdentity>;

export const TcbInfoSchema = z.object({
  id: z.enum(["SGX", "TDX"]).optional(),
  version: z.number().int(),
  issueDate: date,
  nextUpdate: date,
  fmspc: z.string().regex(/^[0-9a-fA-F]{12}$/),
  pceId: z.string(),
  tdxModule: tdxModule.optional(),
  tdxModuleIdentities: z.array(tdxModuleIdentity).optional(),
  tcbLevels: z.array(
    z.object({
      tcb: z.object({
        sgxtcbcomponents: z.array(svn).length(16),
        pcesvn: z.number().int().nonnegative(),
        tdxtcbcomponents: z.array(svn).length(16).optional(),
      }),
      tcbDate: z.string(),
      tcbStatus: z.string(),
      advisoryIDs: z.array(z.string()).optional(),
    }),
  ),
});
export type TcbInfo = z.infer<typeof TcbInfoSchema>;

export const QeIdentitySchema = z.object({
  id: z.string(),
  version: z.number().int(),
  issueDate: date,
  nextUpdate: date,
  miscselect: z.string().regex(/^[0-9a-fA-F]{8}$/),
  miscselectMask: z.string().regex(/^[0-9a-fA-F]{8}$/),
  attributes: z.string().regex(/^[0-9a-fA-F]{32}$/),
  attributesMask: z.string().regex(/^[0-9a-fA-F]{32}$/),
  mrsigner: z.string().regex(/^[0-9a-fA-F]{64}$/),
  isvprodid: z.number().int(),
  tcbLevels: isvLevels,
});
export type QeIdentity = z.infer<typeof QeIdentitySchema>;

export function parseSignedJson<T>(schema: z.ZodType<T>, text: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new AttestationError(AttestCode.COLLATERAL_INVALID, `${what} is not JSON`, { cause });
  }
  const r = schema.safeParse(json);
  if (!r.success) throw new AttestationError(AttestCode.COLLATERAL_INVALID, `${what} is not in Intel's format: ${r.error.issues[0]?.message ?? ""}`);
  return r.data;
}

/** COLLATERAL_NOT_YET_VALID before issueDate, COLLATERAL_EXPIRED from nextUpdate on. */
export function checkWindow(doc: { issueDate: string; nextUpdate: string }, now: Date, what: string): void {
  const issued = new Date(doc.issueDate);
  const next = new Date(doc.nextUpdate);
  if (now < issued) throw new AttestationError(AttestCode.COLLATERAL_NOT_YET_VALID, `${what} is issued ${doc.issueDate}, after ${now.toISOString()}`);
  if (now >= next) throw new AttestationError(AttestCode.COLLATERAL_EXPIRED, `${what} expired at ${doc.nextUpdate} (now ${now.toISOString()})`);
}

/** The issuer chain reaches a trusted root and its leaf signed the verbatim JSON text. */
export function checkSignedJson(
  text: string,
  signatureHex: string,
  issuerChainPem: string,
  roots: readonly X509Certificate[],
  now: Date,
  what: string,
): void {
  let signer: X509Certificate;
  try {
    const certs = parsePemChain(issuerChainPem, `${what} issuer chain`);
    signer = verifyChain(certs, roots, now, `${what} issuer chain`).leaf;
  } catch (e) {
    if (e instanceof AttestationError && e.code === AttestCode.FOREIGN_ROOT) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new AttestationError(AttestCode.COLLATERAL_SIGNATURE_INVALID, `${what}: ${msg}`, { cause: e });
  }
  const key = publicKeyOf(signer);
  if (!key || !ecdsaP256Verify(key, new TextEncoder().encode(text), fromHex(signatureHex))) {
    throw new AttestationError(AttestCode.COLLATERAL_SIGNATURE_INVALID, `${what} is not signed by the Intel SGX TCB Signing key`);
  }
}
