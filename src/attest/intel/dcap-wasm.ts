/**
 * The WASM build of Phala's Rust dcap-qvl (@phala/dcap-qvl-web), loaded synchronously
 * once per process. It does the full Intel QVL algorithm (TCB status incl. QE identity
 * and TDX module, advisories, CRL checks through webpki); we call it last, after our own
 * checks, and map its error strings to our codes.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { initSync, js_verify } from "@phala/dcap-qvl-web";
import { AttestCode } from "../codes.js";
import type { Collateral } from "./collateral.js";

let ready = false;

/** Instantiates the WASM module (idempotent; ~tens of ms the first time). */
export function initDcapWasm(): void {
  if (ready) return;
  const require = createRequire(import.meta.url);
  const path = require.resolve("@phala/dcap-qvl-web/dcap-qvl-web_bg.wasm");
  initSync({ module: readFileSync(path) });
  ready = true;
}

export interface QvlResult {
  readonly status: string;
  readonly advisoryIds: readonly string[];
}

/** Calls js_verify; returns its verdict or the library's error text (it throws strings). */
export function qvlVerify(quote: Uint8Array, collateral: Collateral, nowSecs: number): QvlResult | { readonly error: string } {
  initDcapWasm();
  let out: unknown;
  try {
    out = js_verify(quote, collateral, BigInt(Math.floor(nowSecs)));
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  if (typeof out !== "object" || out === null) return { error: "dcap-qvl returned no report" };
  const status: unknown = Reflect.get(out, "status");
  const ids: unknown = Reflect.get(out, "advisory_ids");
  if (typeof status !== "string") return { error: "dcap-qvl returned no status" };
  const advisoryIds = Array.isArray(ids) ? ids.filter((x): x is string => typeof x === "string") : [];
  return { status, advisoryIds };
}

/** dcap-qvl error text -> our code (strings from dcap-qvl 0.3.3's verify.rs). */
export function codeForQvlError(message: string): string {
  const m = message.toLowerCase();
  if (m.includes("decode quote") || m.includes("unsupported quote version") || m.includes("body type")) return AttestCode.QUOTE_VERSION_UNSUPPORTED;
  if (m.includes("isv enclave report signature")) return AttestCode.QUOTE_SIGNATURE_INVALID;
  if (m.includes("qe_report") || m.includes("qe report")) return AttestCode.QE_REPORT_INVALID;
  if (m.includes("tcb_info") || m.includes("qe_identity")) return AttestCode.COLLATERAL_SIGNATURE_INVALID;
  if (m.includes("expired")) return AttestCode.COLLATERAL_EXPIRED;
  if (m.includes("crl")) return AttestCode.CRL_INVALID;
  if (m.includes("certificate chain") || m.includes("certificate")) return AttestCode.CERT_CHAIN_INVALID;
  if (m.includes("fmspc")) return AttestCode.COLLATERAL_INVALID;
  if (m.includes("tcb level") || m.includes("no matching")) return AttestCode.TCB_LEVEL_NOT_FOUND;
  return AttestCode.DCAP_VERIFICATION_FAILED;
}
