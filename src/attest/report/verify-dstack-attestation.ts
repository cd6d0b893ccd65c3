/**
 * Verifies dstack's verifier input `{"attestation": "<hex of SCALE VersionedAttestation>"}`
 * (dstack-attestation.ts) offline, as far as that is possible:
 *  TDX:     quote signatures + PCK chain (TCB status only with collateral); report_data is
 *           the attestation's; RTMR3 replays from runtime_events, which must be the event
 *           log's RTMR3 events; app identity from RTMR3; vm_config's image documents hash
 *           to os_image_hash and give the quote's MRTD.
 *  SEV-SNP: report signature + VCEK → ASK → ARK (embedded); report_data is the
 *           attestation's; HOST_DATA = SHA-256("dstack-mr-config-v3:" || 0x00 || mr_config)
 *           (dstack-types mr_config.rs, MrConfigV3::hash_document), so the app id, compose
 *           hash, instance id and key provider in mr_config are bound by hardware; the
 *           runtime events must agree with it; the image documents hash to os_image_hash.
 * What cannot be checked offline is said as skipped checks.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { z } from "zod";
import { concatBytes, equalBytes, fromHex, toHex, utf8 } from "../../util/bytes.js";
import { AttestationError } from "../../errors.js";
import type { Measurement } from "../../types.js";
import { AttestCode } from "../codes.js";
import type { AppIdentity } from "../eventlog/app-identity.js";
import { DSTACK_RUNTIME_EVENT_TYPE } from "../eventlog/dstack.js";
import { decodeDstackAttestation, type DstackAttestation, type DstackRuntimeEvent } from "./dstack-attestation.js";
import { imageMeasurement, imageMrtds, parseVmConfig } from "./dstack-image.js";
import type { ReportVerifyOptions } from "./options.js";
import type { ReportState } from "./result.js";
import { checkSnpEvidence } from "./snp-evidence.js";
import { readTdQuoteFields } from "./td-quote.js";
import { checkEventLog, checkTdxQuote } from "./tdx-evidence.js";

const inputSchema = z.object({ attestation: z.string().regex(/^(0x)?([0-9a-fA-F]{2})+$/, "hex") }).passthrough();
const MR_CONFIG_DOMAIN = utf8.encode("dstack-mr-config-v3:");

export function decodeDstackInput(value: unknown): DstackAttestation {
  const r = inputSchema.safeParse(value);
  if (!r.success) throw new AttestationError(AttestCode.EVIDENCE_UNREADABLE, "dstack attestation: `attestation` must be hex");
  return decodeDstackAttestation(fromHex(r.data.attestation.replace(/^0x/, "")));
}

export async function verifyDstackAttestation(s: ReportState, value: unknown, opts: ReportVerifyOptions): Promise<void> {
  const a = decodeDstackInput(value);
  s.list.pass("report parses", `dstack attestation (SCALE VersionedAttestation V0, ${a.kind === "tdx" ? "TDX" : "SEV-SNP"})`);
  if (a.kind === "tdx") await verifyTdx(s, a, opts);
  else verifySnp(s, a, opts);
  checkNonce(s, opts);
}

function checkReportData(s: ReportState, attested: string | null, claimed: Uint8Array): void {
  if (attested !== null && equalBytes(fromHex(attested), claimed)) s.list.pass("report_data", "the hardware report carries the attestation's report_data");
  else s.list.fail("report_data", AttestCode.REPORT_DATA_MISMATCH, "the hardware report's report_data is not the attestation's report_data");
}

function checkNonce(s: ReportState, opts: ReportVerifyOptions): void {
  if (opts.nonce === undefined) s.list.notChecked("nonce", "no nonce given: this attestation may be a replay");
  else if (s.reportData !== null && s.reportData.slice(64) === opts.nonce) s.list.pass("nonce", "report_data[32:64] is our nonce");
  else s.list.fail("nonce", AttestCode.NONCE_MISMATCH, "report_data[32:64] is not our nonce");
}

const runtimeEntries = (evs: readonly DstackRuntimeEvent[]): unknown[] =>
  evs.map((e) => ({ imr: 3, event_type: DSTACK_RUNTIME_EVENT_TYPE, digest: "", event: e.event, event_payload: toHex(e.payload) }));

async function verifyTdx(s: ReportState, a: Extract<DstackAttestation, { kind: "tdx" }>, opts: ReportVerifyOptions): Promise<void> {
  const v = await checkTdxQuote(s, a.quote, opts);
  checkReportData(s, v.reportData, a.reportData);
  // dstack replays RTMR3 from runtime_events; the event log's RTMR3 part must say the same.
  const logged = a.eventLog.filter((e) => e.imr === 3).map((e) => `${e.event}:${toHex(e.payload)}`);
  const runtime = a.runtimeEvents.map((e) => `${e.event}:${toHex(e.payload)}`);
  if (logged.length > 0 && logged.join("|") !== runtime.join("|")) {
    s.list.fail("runtime events", AttestCode.EVENT_LOG_INVALID, "runtime_events differ from the event log's RTMR3 events");
  }
  let rtmrs: readonly string[] = [];
  try {
    rtmrs = readTdQuoteFields(a.quote).rtmrs;
  } catch {
    // unreadable quote: already reported by the quote check
  }
  s.appIdentity = checkEventLog(s, runtimeEntries(a.runtimeEvents), rtmrs);
  s.list.notChecked("boot event log", `stripped: ${a.eventLog.filter((e) => e.imr < 3).length} RTMR0 ACPI digests kept, RTMR0-2 cannot be replayed; the image is bound through MRTD below`);
  try {
    const cfg = parseVmConfig(a.config);
    const doc = imageMeasurement(cfg, "tdx");
    const mrtd = v.measurements["mrtd"] ?? "";
    const allowed = imageMrtds(doc);
    if (!allowed.includes(mrtd)) throw new AttestationError(AttestCode.OS_IMAGE_MISMATCH, `the quote's MRTD ${mrtd} is none of the image's (${allowed.join(", ")})`);
    s.list.pass("OS image", `os_image_hash ${cfg.os_image_hash} → measurement.tdx.cbor → MRTD matches`);
    s.measurements["os_image_hash"] = cfg.os_image_hash.toLowerCase() as Measurement;
    s.list.notChecked("RTMR1/RTMR2 from the image", "needs the TDVF event model (kernel authenticode, cmdline, initrd): not recomputed");
  } catch (e) {
    failWith(s, "OS image", e, AttestCode.OS_IMAGE_MISMATCH);
  }
}

const mrConfigSchema = z.object({
  app_id: z.string().optional(),
  compose_hash: z.string(),
  instance_id: z.string().optional(),
  key_provider: z.string(),
  key_provider_id: z.string().optional(),
  version: z.number().optional(),
}).passthrough();

function verifySnp(s: ReportState, a: Extract<DstackAttestation, { kind: "sev-snp" }>, opts: ReportVerifyOptions): void {
  // The ASK comes first in dstack's chain; ours wants the VCEK first.
  const chain = [...a.certChainPem].reverse().join("\n");
  const v = checkSnpEvidence(s, a.report, chain, opts);
  checkReportData(s, v?.reportData ?? null, a.reportData);
  const hostData = v?.measurements["host_data"] ?? "";
  const bound = toHex(sha256(concatBytes(MR_CONFIG_DOMAIN, new Uint8Array([0]), utf8.encode(a.mrConfig))));
  if (hostData !== bound) {
    s.list.fail("mr_config", AttestCode.APP_CONFIG_MISMATCH, `HOST_DATA ${hostData} is not SHA-256 of the mr_config document (${bound})`);
    return;
  }
  s.list.pass("mr_config", "HOST_DATA = SHA-256(\"dstack-mr-config-v3:\" || 0 || mr_config)");
  try {
    const mr = mrConfigSchema.parse(JSON.parse(a.mrConfig));
    const events = new Map(a.runtimeEvents.map((e) => [e.event, toHex(e.payload)]));
    for (const [name, want] of [["app-id", mr.app_id], ["compose-hash", mr.compose_hash], ["instance-id", mr.instance_id]] as const) {
      const got = events.get(name);
      if (want !== undefined && got !== undefined && got !== want.toLowerCase()) {
        throw new AttestationError(AttestCode.APP_CONFIG_MISMATCH, `runtime event ${name} (${got}) contradicts mr_config (${want})`);
      }
    }
    const id: AppIdentity = {
      appId: mr.app_id ?? null,
      composeHash: mr.compose_hash.toLowerCase(),
      instanceId: mr.instance_id ?? null,
      keyProvider: mr.key_provider,
      osImageHash: events.get("os-image-hash") ?? null,
      imageDigests: [],
      other: {},
    };
    s.appIdentity = id;
    s.measurements["compose_hash"] = id.composeHash as Measurement;
    s.list.pass("app identity", `from mr_config (bound by HOST_DATA): app ${id.appId ?? "-"}, compose ${id.composeHash}; runtime events agree`);
    s.list.notChecked("runtime events", "SEV-SNP has no RTMR: runtime events are not measured, only compared with mr_config");
  } catch (e) {
    failWith(s, "app identity", e, AttestCode.APP_CONFIG_MISMATCH);
  }
  try {
    const cfg = parseVmConfig(a.config);
    if (cfg.mr_config !== undefined && cfg.mr_config !== a.mrConfig) throw new AttestationError(AttestCode.APP_CONFIG_MISMATCH, "vm_config's mr_config differs from the attested one");
    imageMeasurement(cfg, "snp");
    s.list.pass("OS image documents", `os_image_hash ${cfg.os_image_hash} → measurement.snp.cbor`);
    s.measurements["os_image_hash"] = cfg.os_image_hash.toLowerCase() as Measurement;
    s.list.notChecked("SNP launch measurement from the image", "recomputing the SEV-SNP launch digest (OVMF, kernel, initrd, cmdline, VMSA) is not implemented: pin `measurement` in a policy");
  } catch (e) {
    failWith(s, "OS image documents", e, AttestCode.OS_IMAGE_MISMATCH);
  }
}

function failWith(s: ReportState, name: string, e: unknown, fallback: string): void {
  s.list.fail(name, e instanceof AttestationError ? e.code : fallback, e instanceof Error ? e.message : String(e));
}
