/**
 * The three signatures of a DCAP quote, checked in the browser with @noble/curves (the
 * same order and check names as src/attest/intel/signatures.ts, which uses node:crypto):
 * the PCK chain ends at Intel's root (or the SIMULATED one, marked so), the PCK key signs
 * the QE report, the QE report binds the attestation key, the attestation key signs the
 * quote. Then Intel's QE identity and "not debuggable", as the offline Node path does.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { AttestCode } from "../../../src/attest/codes.js";
import { checkNotDebug } from "../../../src/attest/intel/debug.js";
import { INTEL_SGX_ROOT_CA_PEM } from "../../../src/attest/intel/intel-root.js";
import { quoteMeasurements } from "../../../src/attest/intel/measurements.js";
import { parseQuote } from "../../../src/attest/intel/parse-quote.js";
import { checkIntelQe } from "../../../src/attest/intel/qe-pin.js";
import type { ParsedQuote } from "../../../src/attest/intel/quote-types.js";
import { SIMULATED_QUOTE_ROOTS_PEM } from "../../../src/attest/simulator/roots.js";
import type { CheckList } from "../../../src/attest/types.js";
import { AttestationError } from "../../../src/errors.js";
import type { Measurement } from "../../../src/types.js";
import { toHex } from "../../../src/util/bytes.js";
import { CertError, p256Verify, parseCert, pemBlocks, sameBytes, verifyChain, type Cert } from "./x509.js";

export interface QuoteOutcome {
  readonly simulated: boolean;
  readonly tee: "tdx" | "sgx";
  readonly reportData: string | null;
  readonly measurements: Record<string, Measurement>;
}

let roots: { intel: Cert; simulated: Cert[] } | undefined;
function trustedRoots(): { intel: Cert; simulated: Cert[] } {
  roots ??= {
    intel: parseCert(pemBlocks(INTEL_SGX_ROOT_CA_PEM)[0] as Uint8Array),
    simulated: SIMULATED_QUOTE_ROOTS_PEM.flatMap((p) => pemBlocks(p).map(parseCert)),
  };
  return roots;
}

function codeOf(e: unknown, fallback: string): string {
  return e instanceof AttestationError ? e.code : fallback;
}

export function checkQuoteInBrowser(list: CheckList, bytes: Uint8Array, now: Date): QuoteOutcome | null {
  let q: ParsedQuote;
  try {
    q = parseQuote(bytes);
    list.pass("quote parses", `${q.tee} quote v${q.header.version}, body type ${q.bodyType}`);
  } catch (e) {
    list.fail("quote parses", codeOf(e, AttestCode.QUOTE_MALFORMED), e instanceof Error ? e.message : "the quote could not be read");
    return null;
  }
  const sd = q.signatureData;
  const cert = sd.certification;
  const { intel, simulated } = trustedRoots();
  let simulatedRoot = false;
  let leaf: Cert | null = null;
  try {
    const chain = pemBlocks(cert.pckChainPem).map(parseCert);
    leaf = chain[0] ?? null;
    const outcome = verifyChain(chain, [intel, ...simulated], now);
    simulatedRoot = outcome.rootIndex > 0;
    list.pass("PCK certificate chain", `ends at ${simulatedRoot ? "the Cloister SIMULATED root" : "Intel SGX Root CA"}`);
  } catch (e) {
    const code = e instanceof CertError && /not a trusted root/.test(e.message) ? AttestCode.FOREIGN_ROOT : AttestCode.CERT_CHAIN_INVALID;
    list.fail("PCK certificate chain", code, e instanceof Error ? e.message : "unreadable PCK chain");
  }
  if (!leaf) list.notChecked("QE report signature", "no readable PCK certificate key to check it with");
  else if (p256Verify(leaf.publicKey, cert.qeReport.raw, cert.qeReportSignature, false)) list.pass("QE report signature", "signed by the PCK key");
  else list.fail("QE report signature", AttestCode.QE_REPORT_INVALID, "the QE report is not signed by the PCK certificate's key");

  const expected = sha256(new Uint8Array([...sd.attestationKey, ...cert.qeAuthData]));
  const rd = cert.qeReport.reportData;
  if (sameBytes(rd.subarray(0, 32), expected) && rd.subarray(32).every((b) => b === 0)) list.pass("QE report binds the attestation key");
  else list.fail("QE report binds the attestation key", AttestCode.QE_REPORT_INVALID, "QE report_data is not SHA-256(attestation key || QE auth data)");

  const attKey = new Uint8Array([0x04, ...sd.attestationKey]);
  if (sd.attestationKey.length === 64 && p256Verify(attKey, q.signedBytes, sd.signature, false)) list.pass("quote signature", "header and body signed by the attestation key");
  else list.fail("quote signature", AttestCode.QUOTE_SIGNATURE_INVALID, "the quote is not signed by its attestation key");

  for (const [name, fn, code] of [
    ["QE is Intel's quoting enclave", () => checkIntelQe(q), AttestCode.QE_IDENTITY_MISMATCH],
    ["not debuggable", () => checkNotDebug(q), AttestCode.DEBUG_ENABLED],
  ] as const) {
    try {
      fn();
      list.pass(name);
    } catch (e) {
      list.fail(name, codeOf(e, code), e instanceof Error ? e.message : String(e));
    }
  }
  return { simulated: simulatedRoot, tee: q.tee, reportData: toHex(q.body.reportData), measurements: quoteMeasurements(q) };
}
