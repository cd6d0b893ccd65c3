/**
 * The checks of a Cloister report after its hardware evidence: that report_data is what
 * the hardware signed, that the signing key is the one the report names, that report_data
 * v1 binds the keys, the GPU evidence and the nonce, and (TDX) the event log, compose hash
 * and app manifest. Pure JS, so src/attest (Node) and the browser console (console/) run
 * this one copy: two verifiers that drift apart would disagree on what "verified" means.
 */
import { fromHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { checkAppManifest } from "./app-manifest.js";
import { checkReportBinding } from "./binding-check.js";
import { checkComposeHash, checkEventLog } from "./event-log-check.js";
import type { ReportState } from "./result.js";
import type { CloisterReportInput } from "./schema.js";
import { signerBytes } from "./signer.js";

const clean = (h: string): string => h.toLowerCase().replace(/^0x/, "");

/** report_data field, signing address and the report_data v1 binding (against `nonce`). */
export function checkKeysBound(s: ReportState, r: CloisterReportInput, nonce: string): void {
  if (s.reportData !== null && s.reportData !== clean(r.report_data)) {
    s.list.fail("report_data field", AttestCode.REPORT_DATA_MISMATCH, "the report's report_data is not what the hardware signed");
  }

  let signer: Uint8Array | null = null;
  try {
    const sb = signerBytes(r.signing_algo, fromHex(r.signing_public_key));
    if (sb.address === r.signing_address.toLowerCase()) {
      s.list.pass("signing address", `${sb.address} is the address of signing_public_key`);
      signer = sb.signer;
    } else {
      s.list.fail("signing address", AttestCode.SIGNING_KEY_MISMATCH, `signing_public_key's address is ${sb.address}, not ${r.signing_address}`);
    }
  } catch (e) {
    s.list.fail("signing address", AttestCode.SIGNING_KEY_MISMATCH, e instanceof Error ? e.message : "unreadable signing key");
  }

  if (s.reportData !== null && signer) {
    const failure = checkReportBinding(
      fromHex(s.reportData),
      { signer, e2ePublicKey: fromHex(r.e2e_public_key), tlsSpkiSha256: r.tls_spki_sha256 ? clean(r.tls_spki_sha256) : null, gpuPayload: r.nvidia_payload },
      fromHex(nonce),
    );
    if (failure === null) s.list.pass("report_data binding (v1)", "binds the signing key, E2E key, TLS key and GPU evidence, and the nonce");
    else s.list.fail("report_data binding (v1)", failure, failure === AttestCode.NONCE_MISMATCH ? "the quote's report_data carries another nonce" : "report_data does not bind these keys and this GPU evidence");
  }
}

/** TDX: the event log replayed into the quote's RTMRs, then the app identity's compose hash and manifest. */
export function checkAppIdentity(s: ReportState, r: CloisterReportInput, rtmrs: readonly string[]): void {
  s.appIdentity = checkEventLog(s, r.event_log, rtmrs);
  const tcb = r.info["tcb_info"];
  const manifestCompose = r.info.app_manifest["compose"];
  const appCompose =
    typeof tcb === "object" && tcb !== null && typeof (tcb as Record<string, unknown>)["app_compose"] === "string"
      ? ((tcb as Record<string, unknown>)["app_compose"] as string)
      : typeof manifestCompose === "string"
        ? manifestCompose
        : null;
  checkComposeHash(s, s.appIdentity, appCompose, r.info.compose_hash);
  checkAppManifest(s, s.appIdentity, r.info.app_manifest);
}
