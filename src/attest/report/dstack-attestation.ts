/**
 * dstack's verifier input `{"attestation": "<hex>"}`: the hex of a SCALE-encoded
 * `VersionedAttestation` (Dstack-TEE/dstack, dstack-attest/src/attestation.rs):
 *   enum VersionedAttestation { V0 { attestation: Attestation } }
 *   struct Attestation { quote: AttestationQuote, runtime_events: Vec<RuntimeEvent>,
 *                        report_data: [u8; 64], config: String, report: () }
 *   enum AttestationQuote { 0: DstackTdx(TdxQuote { quote: Vec<u8>, event_log: Vec<TdxEvent> }),
 *                           1: DstackGcpTdx, 2: DstackNitroEnclave,
 *                           3: SEV-SNP { report: Vec<u8>, cert_chain: Vec<String> (PEM), mr_config: String } }
 *   struct TdxEvent { imr: u32, event_type: u32, digest: Vec<u8>, event: String, event_payload: Vec<u8> }
 *   struct RuntimeEvent { event: String, payload: Vec<u8> }
 * Variant 3's layout was read off the fixture (dstack commit 312dc605) and is checked by
 * the decoder consuming every byte exactly.
 */
import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";
import { ScaleReader } from "./scale.js";

export interface DstackTdxEvent {
  readonly imr: number;
  readonly eventType: number;
  readonly digest: Uint8Array;
  readonly event: string;
  readonly payload: Uint8Array;
}

export interface DstackRuntimeEvent {
  readonly event: string;
  readonly payload: Uint8Array;
}

interface Common {
  readonly runtimeEvents: readonly DstackRuntimeEvent[];
  readonly reportData: Uint8Array;
  /** The VM config JSON (vm_config): os_image_hash, tdx_/sev_snp_measurement, mr_config... */
  readonly config: string;
}

export type DstackAttestation =
  | (Common & { readonly kind: "tdx"; readonly quote: Uint8Array; readonly eventLog: readonly DstackTdxEvent[] })
  | (Common & { readonly kind: "sev-snp"; readonly report: Uint8Array; readonly certChainPem: readonly string[]; readonly mrConfig: string });

const unsupported = (what: string): AttestationError => new AttestationError(AttestCode.UNSUPPORTED_EVIDENCE, what);

export function decodeDstackAttestation(bytes: Uint8Array): DstackAttestation {
  const r = new ScaleReader(bytes);
  const version = r.u8();
  if (version !== 0) throw unsupported(`dstack VersionedAttestation variant ${version} (only V0 is known)`);
  const variant = r.u8();
  let head: { kind: "tdx"; quote: Uint8Array; eventLog: DstackTdxEvent[] } | { kind: "sev-snp"; report: Uint8Array; certChainPem: string[]; mrConfig: string };
  if (variant === 0) {
    const quote = r.bytesVec("quote");
    const eventLog = r.vec((x) => ({ imr: x.u32(), eventType: x.u32(), digest: x.bytesVec("digest"), event: x.string("event name"), payload: x.bytesVec("event payload") }));
    head = { kind: "tdx", quote, eventLog };
  } else if (variant === 3) {
    const report = r.bytesVec("SNP report");
    const certChainPem = r.vec((x) => x.string("certificate"));
    head = { kind: "sev-snp", report, certChainPem, mrConfig: r.string("mr_config") };
  } else {
    throw unsupported(`dstack attestation variant ${variant} (GCP TDX + TPM, Nitro) is not supported`);
  }
  const runtimeEvents = r.vec((x) => ({ event: x.string("runtime event name"), payload: x.bytesVec("runtime event payload") }));
  const reportData = r.take(64, "report_data");
  const config = r.string("config");
  r.end("the attestation");
  return { ...head, runtimeEvents, reportData, config };
}
