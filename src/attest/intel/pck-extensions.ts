/**
 * Intel's SGX extensions in a PCK certificate ("Intel SGX PCK Certificate and Certificate
 * Revocation List Profile Specification", §3.5, OID 1.2.840.113741.1.13.1): the platform's
 * FMSPC, PCE-ID and TCB (16 SGX component SVNs, PCESVN, CPUSVN). These select the TCB Info
 * and the TCB level.
 */
import type { X509Certificate } from "node:crypto";
import { AttestationError } from "../../errors.js";
import { toHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { children, derUint, oidText, parseDer, type Tlv } from "./der.js";

const SGX_EXT = "1.2.840.113741.1.13.1";

export interface PckExtensions {
  /** 6 bytes, upper-case hex as Intel's TCB Info writes it. */
  readonly fmspc: string;
  readonly pceId: string;
  readonly sgxTcbComponents: readonly number[];
  readonly pceSvn: number;
  /** "platform" or "processor", from the issuing CA's name (for the pckcrl `ca` parameter). */
  readonly ca: "platform" | "processor";
}

export function pckExtensions(leaf: X509Certificate): PckExtensions {
  try {
    const ext = findExtension(leaf.raw, SGX_EXT);
    const fields = new Map<string, Tlv>();
    for (const f of children(parseDer(ext))) {
      const [oid, value] = children(f);
      if (oid && value) fields.set(oidText(oid.value), value);
    }
    const tcb = fields.get(`${SGX_EXT}.2`);
    const fmspc = fields.get(`${SGX_EXT}.4`);
    const pceId = fields.get(`${SGX_EXT}.3`);
    if (!tcb || !fmspc || !pceId) throw new Error("SGX extension lacks TCB, FMSPC or PCE-ID");
    const tcbFields = new Map<string, Tlv>();
    for (const f of children(tcb)) {
      const [oid, value] = children(f);
      if (oid && value) tcbFields.set(oidText(oid.value), value);
    }
    const comp = (n: number): number => {
      const v = tcbFields.get(`${SGX_EXT}.2.${n}`);
      if (!v) throw new Error(`TCB component ${n} missing`);
      return derUint(v.value);
    };
    const sgxTcbComponents = Array.from({ length: 16 }, (_, i) => comp(i + 1));
    return {
      fmspc: toHex(fmspc.value).toUpperCase(),
      pceId: toHex(pceId.value).toUpperCase(),
      sgxTcbComponents,
      pceSvn: comp(17),
      ca: /Processor/i.test(leaf.issuer) ? "processor" : "platform",
    };
  } catch (cause) {
    if (cause instanceof AttestationError) throw cause;
    throw new AttestationError(AttestCode.CERT_CHAIN_INVALID, "the PCK certificate's SGX extensions are unreadable", { cause });
  }
}

/** The extnValue (inner DER) of the extension with this OID (RFC 5280 §4.1). */
function findExtension(certDer: Uint8Array, oid: string): Uint8Array {
  const [tbs] = children(parseDer(certDer));
  if (!tbs) throw new Error("empty certificate");
  const extWrapper = children(tbs).find((t) => t.tag === 0xa3);
  if (!extWrapper) throw new Error("certificate has no extensions");
  const [extSeq] = children(extWrapper);
  if (!extSeq) throw new Error("empty extensions");
  for (const e of children(extSeq)) {
    const parts = children(e);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (id && value && oidText(id.value) === oid) return value.value;
  }
  throw new Error(`extension ${oid} not found`);
}
