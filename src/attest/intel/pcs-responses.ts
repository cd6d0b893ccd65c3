/**
 * Collateral from saved Intel PCS response bodies (what `curl` or go-tdx-guest's samples
 * keep): `{"tcbInfo":…,"signature":…}`, `{"enclaveIdentity":…,"signature":…}`, the PCK CRL
 * and the root CA CRL (DER, hex or PEM). Bodies lose PCS's issuer-chain headers, so the
 * chains are rebuilt from certificates whose signatures will be checked anyway:
 *   - TCB Info / QE Identity: Intel's TCB Signing certificate current at the document's
 *     issueDate (tcb-signing-certs.ts) + the Intel root;
 *   - PCK CRL: the PCK CA from the quote's own certification data + the Intel root.
 * Nothing is trusted for being chosen here: verifyDcapQuote verifies every signature,
 * chain and validity window of the result. Picking among several bodies uses the quote
 * (FMSPC and TEE of its PCK certificate), so one folder can hold many platforms'.
 */
import { X509Certificate } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { AttestationError } from "../../errors.js";
import { fromHex, toHex, utf8 } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { parsePemChain } from "./certs.js";
import type { Collateral } from "./collateral.js";
import { parseCrl, verifyCrlSignature } from "./crl.js";
import { INTEL_SGX_ROOT_CA_PEM } from "./intel-root.js";
import { parseQuote } from "./parse-quote.js";
import { pckExtensions } from "./pck-extensions.js";
import { topLevelRaw } from "./raw-json.js";
import { INTEL_TCB_SIGNING_PEMS } from "./tcb-signing-certs.js";

export interface PcsResponses {
  /** Response bodies as text, verbatim. */
  readonly json: readonly string[];
  /** CRL bodies (DER). */
  readonly crls: readonly Uint8Array[];
}

interface Signed {
  readonly raw: string;
  readonly signature: string;
  readonly doc: Record<string, unknown>;
}

const invalid = (msg: string): AttestationError => new AttestationError(AttestCode.COLLATERAL_MISSING, msg);

function signedBody(text: string, key: "tcbInfo" | "enclaveIdentity"): Signed | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null || !(key in v)) return null;
  const doc: unknown = Reflect.get(v, key);
  const signature: unknown = Reflect.get(v, "signature");
  if (typeof doc !== "object" || doc === null || typeof signature !== "string") return null;
  return { raw: topLevelRaw(text, key), signature, doc: doc as Record<string, unknown> };
}

function newest(list: readonly Signed[]): Signed | undefined {
  return [...list].sort((a, b) => Date.parse(String(b.doc["issueDate"])) - Date.parse(String(a.doc["issueDate"])))[0];
}

/** [TCB Signing cert valid at issueDate, root] as PEM; falls back to the newest. */
function tcbSigningChain(issueDate: unknown): string {
  const at = new Date(String(issueDate));
  const certs = INTEL_TCB_SIGNING_PEMS.map((p) => ({ p, c: new X509Certificate(p) }));
  const fit = certs.find(({ c }) => new Date(c.validFrom) <= at && at < new Date(c.validTo)) ?? certs[certs.length - 1];
  return `${fit?.p ?? ""}${INTEL_SGX_ROOT_CA_PEM}`;
}

/** Assembles DCAP collateral for this quote from saved PCS bodies. Throws COLLATERAL_MISSING. */
export function collateralFromPcsResponses(r: PcsResponses, quote: Uint8Array): Collateral {
  const q = parseQuote(quote);
  const chain = parsePemChain(q.signatureData.certification.pckChainPem, "PCK certificate chain");
  const [leaf, ca] = chain;
  if (!leaf || !ca) throw invalid("the quote carries no PCK CA certificate");
  const fmspc = pckExtensions(leaf).fmspc;
  const tee = q.tee === "tdx" ? "TDX" : "SGX";
  const tcb = newest(
    r.json.flatMap((t) => signedBody(t, "tcbInfo") ?? []).filter((s) => String(s.doc["fmspc"]).toUpperCase() === fmspc && String(s.doc["id"] ?? "SGX") === tee),
  );
  if (!tcb) throw invalid(`no ${tee} TCB Info response for FMSPC ${fmspc}`);
  const qeId = q.tee === "tdx" ? "TD_QE" : "QE";
  const qe = newest(r.json.flatMap((t) => signedBody(t, "enclaveIdentity") ?? []).filter((s) => s.doc["id"] === qeId));
  if (!qe) throw invalid(`no ${qeId} identity response`);
  const root = new X509Certificate(INTEL_SGX_ROOT_CA_PEM);
  const signedBy = (der: Uint8Array, cert: X509Certificate): boolean => {
    try {
      verifyCrlSignature(parseCrl(der, "CRL"), cert, "CRL");
      return true;
    } catch {
      return false;
    }
  };
  const rootCrl = r.crls.find((d) => signedBy(d, root));
  const pckCrl = r.crls.find((d) => signedBy(d, ca));
  if (!rootCrl) throw invalid("no root CA CRL signed by Intel's root");
  if (!pckCrl) throw invalid("no PCK CRL signed by this quote's PCK CA");
  return {
    tcb_info: tcb.raw,
    tcb_info_signature: tcb.signature,
    tcb_info_issuer_chain: tcbSigningChain(tcb.doc["issueDate"]),
    qe_identity: qe.raw,
    qe_identity_signature: qe.signature,
    qe_identity_issuer_chain: tcbSigningChain(qe.doc["issueDate"]),
    pck_crl: toHex(pckCrl),
    root_ca_crl: toHex(rootCrl),
    pck_crl_issuer_chain: `${ca.toString()}${INTEL_SGX_ROOT_CA_PEM}`,
  };
}

/** A CRL file as DER: raw DER, PEM ("X509 CRL") or hex text; null when it is none of them. */
function crlBytes(b: Uint8Array): Uint8Array | null {
  if (b[0] === 0x30) return b;
  const text = utf8.decode(b).trim();
  const pem = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(text);
  if (pem?.[1]) return new Uint8Array(Buffer.from(pem[1].replace(/\s+/g, ""), "base64"));
  if (/^([0-9a-fA-F]{2})+$/.test(text)) return fromHex(text);
  return null;
}

/** Reads every file (not recursing, at most 1 MiB each) of a folder of saved PCS bodies. */
export async function loadPcsResponseDir(dir: string): Promise<PcsResponses> {
  const json: string[] = [];
  const crls: Uint8Array[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    throw new AttestationError(AttestCode.COLLATERAL_MISSING, `cannot read collateral folder ${dir}`, { cause });
  }
  for (const name of names.sort()) {
    const path = join(dir, name);
    const st = await stat(path);
    if (!st.isFile() || st.size > 1 << 20) continue;
    const b = new Uint8Array(await readFile(path));
    const text = utf8.decode(b).trim();
    if (text.startsWith("{")) json.push(text);
    else {
      const der = crlBytes(b);
      if (der) crls.push(der);
    }
  }
  return { json, crls };
}
