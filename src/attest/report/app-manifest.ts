/**
 * The model is bound (issue 7, item 7). `cloister up` measures its app manifest (app,
 * version, backend, models: [{id, source, sha256}]) into RTMR3 as the runtime event
 * `cloister-app-manifest` whose payload is SHA-256 of the manifest's JSON text
 * (JSON.stringify of the object, as the node serves it in info.app_manifest). The report's
 * manifest is only the node's word until it hashes to that event: a renamed model or a
 * fake sha256 no longer does. A bound manifest gives the `model_sha256` measurement a
 * policy can pin.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { Measurement } from "../../types.js";
import { toHex, utf8 } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import type { AppIdentity } from "../eventlog/app-identity.js";
import type { ReportState } from "./result.js";

export const APP_MANIFEST_EVENT = "cloister-app-manifest";

/** SHA-256 (hex) of the manifest as measured: its JSON text. */
export function appManifestDigest(manifest: Readonly<Record<string, unknown>>): string {
  return toHex(sha256(utf8.encode(JSON.stringify(manifest))));
}

function modelHashes(manifest: Readonly<Record<string, unknown>>): string[] {
  const models = manifest["models"];
  if (!Array.isArray(models)) return [];
  const out = new Set<string>();
  for (const m of models) {
    const h = m && typeof m === "object" ? (m as Record<string, unknown>)["sha256"] : undefined;
    if (typeof h === "string") out.add(h.toLowerCase());
  }
  return [...out];
}

export function checkAppManifest(s: ReportState, id: AppIdentity | null, manifest: Readonly<Record<string, unknown>>): void {
  const name = "app manifest (models) in RTMR3";
  const measured = id?.other[APP_MANIFEST_EVENT];
  const empty = Object.keys(manifest).length === 0;
  if (measured === undefined) {
    if (!empty) s.list.notChecked(name, "the manifest (model ids and hashes) is not measured into RTMR3: it is the node's word only, and no model hash can be pinned");
    return;
  }
  const digest = appManifestDigest(manifest);
  if (digest !== measured.toLowerCase()) {
    s.list.fail(name, AttestCode.MODEL_MISMATCH, `SHA-256 of the report's app_manifest is ${digest}, RTMR3 recorded ${measured}: the model ids or hashes shown are not the ones the node measured`);
    return;
  }
  const hashes = modelHashes(manifest);
  if (hashes.length === 1) s.measurements["model_sha256"] = hashes[0] as Measurement;
  s.list.pass(name, hashes.length ? `model sha256 ${hashes.join(", ")}` : "the manifest is the measured one");
}
