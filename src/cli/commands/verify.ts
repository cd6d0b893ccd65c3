/**
 * `cloister verify <evidence|URL> [options]`: verifies a file of attestation evidence (any
 * kind verifyEvidence recognises) or a live node's report, and prints one line per check
 * (or one JSON object). Exit 0 verified, 1 not verified, 2 bad usage or unreadable input.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { JSONWebKeySet } from "jose";
import { collateralFromPcsResponses, fetchCollateral as fetchIntelCollateral, INTEL_PCS_URL, loadCollateralFile, loadPcsResponseDir, type Collateral } from "../../attest/intel/index.js";
import { loadPolicyFile } from "../../attest/policy/load.js";
import type { Policy } from "../../attest/policy/schema.js";
import type { ReportVerification } from "../../attest/report/result.js";
import { verifyAttestationReport } from "../../attest/verify.js";
import { verifyEvidence, type EvidenceOptions } from "../../attest/verify-evidence.js";
import { isUncheckedItem } from "../../attest/report/unchecked.js";
import { UNCHECKED_ITEMS, type UncheckedItem } from "../../attest/types.js";
import { AttestationError, isCloisterError } from "../../errors.js";
import { parseNonce, type Nonce } from "../../types.js";
import { toHex } from "../../util/bytes.js";
import { resolveDataDir } from "../../config/node-config.js";
import { EXIT, type CliIO } from "../io.js";
import { namedReleaseLog, RELEASE_LOG_OPTIONS, RELEASE_LOG_USAGE } from "../release-log-flags.js";
import { ReleaseLog } from "../../transparency/release-log.js";
import { applyReleaseLog } from "../../transparency/release.js";
import { TransparencyError } from "../../transparency/errors.js";

const USAGE = `usage: cloister verify <evidence-file | https://node> [options]

  <evidence-file>        a Cloister / NEAR AI / dstack report (JSON), a DCAP quote (binary
                         or hex), an SEV-SNP report, GPU evidence (SPDM, nvidia_payload),
                         or an NRAS response
  https://node           fetch GET /v1/attestation/report with a fresh nonce and verify it
  --collateral FILE|DIR  Intel DCAP collateral JSON, or a folder of saved Intel PCS
                         responses (TCB Info, QE Identity, PCK CRL, root CA CRL):
                         checks the TCB status
  --fetch-collateral     fetch collateral from Intel PCS (or --pccs URL) and cache it in
                         <data-dir>/collateral until its nextUpdate
  --pccs URL             a PCCS or PCS base URL to fetch collateral from (implies --fetch-collateral)
  --now ISO-8601         verify as of this time (or UNIX seconds); default now
  --policy FILE          measurement policy JSON (docs/protocol.md)
  --nonce HEX            the 32-byte nonce the evidence must answer
  --allow-simulated      accept Cloister SIMULATED evidence (it proves nothing)
  --accept-unchecked I   let item I stay unchecked without failing: tcb (TCB status:
                         no Intel collateral / AMD CRL), gpu-rim (GPU measurements vs
                         NVIDIA's RIMs), gpu-ocsp (GPU certificate revocation); repeat
                         or comma-separate. Default: each unchecked item fails
                         (TCB_UNCHECKED, RIM_UNCHECKED, OCSP_UNCHECKED)
  --cert-chain FILE      PEM chain for evidence without one (SNP report, SPDM evidence)
  --jwks FILE            NVIDIA's JWKS for an NRAS response (default: <file>.jwks.json beside it)
${RELEASE_LOG_USAGE}
  --json                 print one JSON object`;

type Values = ReturnType<typeof parse>["values"];

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      collateral: { type: "string" },
      "fetch-collateral": { type: "boolean" },
      pccs: { type: "string" },
      "data-dir": { type: "string" },
      now: { type: "string" },
      policy: { type: "string" },
      nonce: { type: "string" },
      "allow-simulated": { type: "boolean" },
      "accept-unchecked": { type: "string", multiple: true },
      "cert-chain": { type: "string" },
      jwks: { type: "string" },
      json: { type: "boolean" },
      ...RELEASE_LOG_OPTIONS,
      help: { type: "boolean", short: "h" },
    },
  });
}

class UsageError extends Error {}

function parseNow(v: string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = /^\d+$/.test(v) ? new Date(Number(v) * 1000) : new Date(v);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--now ${v} is not an ISO-8601 time or UNIX seconds`);
  return d;
}

function readText(io: CliIO, path: string, what: string): string {
  try {
    return readFileSync(resolve(io.cwd, path), "utf8");
  } catch {
    throw new UsageError(`cannot read ${what} ${path}`);
  }
}

async function options(values: Values, io: CliIO, evidencePath: string | null): Promise<EvidenceOptions> {
  let nonce: Nonce | undefined;
  if (values.nonce !== undefined) {
    try {
      nonce = parseNonce(values.nonce);
    } catch {
      throw new UsageError("--nonce must be 32 bytes of hex (64 characters)");
    }
  }
  let collateral: Collateral | undefined;
  let fetchCollateral: ((quote: Uint8Array) => Promise<Collateral>) | undefined;
  if (values.collateral) {
    const path = resolve(io.cwd, values.collateral);
    if (existsSync(path) && statSync(path).isDirectory()) {
      // Saved PCS bodies: which ones fit depends on the quote (FMSPC, PCK CA).
      const responses = await loadPcsResponseDir(path);
      fetchCollateral = (quote) => Promise.resolve(collateralFromPcsResponses(responses, quote));
    } else collateral = await loadCollateralFile(path);
  } else if (values["fetch-collateral"] || values.pccs) {
    const pccsUrl = values.pccs ?? INTEL_PCS_URL;
    if (!/^https?:\/\//i.test(pccsUrl)) throw new UsageError(`--pccs ${pccsUrl} is not an http(s) URL`);
    const cacheDir = resolve(resolveDataDir(values["data-dir"], io.env, io.cwd), "collateral");
    const at = parseNow(values.now);
    fetchCollateral = (quote) => fetchIntelCollateral(quote, { pccsUrl, cacheDir, ...(at ? { now: at } : {}) });
  }
  let policy: Policy | undefined;
  let policyDir: string | undefined;
  if (values.policy) {
    const p = resolve(io.cwd, values.policy);
    policy = loadPolicyFile(p);
    policyDir = dirname(p);
  }
  let jwksPath = values.jwks;
  if (!jwksPath && evidencePath?.endsWith(".nras.body")) {
    const sibling = resolve(io.cwd, evidencePath.replace(/\.nras\.body$/, ".jwks.json"));
    if (existsSync(sibling)) jwksPath = sibling;
  }
  let jwks: JSONWebKeySet | undefined;
  if (jwksPath) {
    try {
      jwks = JSON.parse(readText(io, jwksPath, "JWKS")) as JSONWebKeySet;
    } catch (e) {
      throw e instanceof UsageError ? e : new UsageError(`--jwks ${jwksPath} is not JSON`);
    }
  }
  const now = parseNow(values.now);
  const accepted = parseAccepted(values["accept-unchecked"]);
  return {
    ...(accepted.length ? { acceptUnchecked: accepted } : {}),
    ...(nonce ? { nonce } : {}),
    ...(collateral ? { collateral } : {}),
    ...(fetchCollateral ? { fetchCollateral } : {}),
    ...(policy ? { policy } : {}),
    ...(policyDir ? { policyDir } : {}),
    ...(now ? { now } : {}),
    ...(values["allow-simulated"] ? { allowSimulated: true } : {}),
    ...(values["cert-chain"] ? { certChainPem: readText(io, values["cert-chain"], "certificate chain") } : {}),
    ...(jwks ? { jwks } : {}),
  };
}

function parseAccepted(values: readonly string[] | undefined): UncheckedItem[] {
  const out: UncheckedItem[] = [];
  for (const item of (values ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean)) {
    if (!isUncheckedItem(item)) throw new UsageError(`--accept-unchecked ${item}: expected one of ${UNCHECKED_ITEMS.join(", ")}`);
    out.push(item);
  }
  return out;
}

/** Fetches a node's report for a fresh nonce (or --nonce) and verifies it against that nonce. */
async function verifyUrl(url: string, opts: EvidenceOptions): Promise<ReportVerification> {
  const nonce = opts.nonce ?? (toHex(randomBytes(32)) as string as Nonce);
  const target = `${url.replace(/\/+$/, "")}/v1/attestation/report?nonce=${nonce}&signing_algo=ecdsa`;
  let body: unknown;
  try {
    const res = await fetch(target, { headers: { accept: "application/json" } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = await res.json();
  } catch (cause) {
    throw new AttestationError("EVIDENCE_UNREADABLE", `could not fetch ${target}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  return verifyAttestationReport(body, { ...opts, nonce });
}

export async function verifyCommand(args: string[], io: CliIO): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parse(args));
  } catch (e) {
    io.err(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (values.help) {
    io.out(USAGE);
    return EXIT.ok;
  }
  const target = positionals[0];
  if (!target || positionals.length > 1) {
    io.err(USAGE);
    return EXIT.usage;
  }
  const isUrl = /^https?:\/\//i.test(target);
  let result: ReportVerification;
  try {
    const opts = await options(values, io, isUrl ? null : target);
    if (isUrl) {
      result = await verifyUrl(target, opts);
    } else {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(readFileSync(resolve(io.cwd, target)));
      } catch {
        throw new UsageError(`cannot read ${target}`);
      }
      result = await verifyEvidence(bytes, opts);
    }
    // A named release log adds one check: these measurements are a published release.
    const named = namedReleaseLog(values, io.env, resolveDataDir(values["data-dir"], io.env, io.cwd));
    if (named) result = await withRelease(result, new ReleaseLog(named));
  } catch (e) {
    return unreadable(e, io, values.json === true);
  }
  if (values.json) io.out(JSON.stringify(toJson(result)));
  else io.out(toText(result));
  return result.verified ? EXIT.ok : EXIT.failed;
}

async function withRelease(r: ReportVerification, log: ReleaseLog): Promise<ReportVerification> {
  try {
    return { ...r, ...applyReleaseLog(r, await log.find(r.measurements), log.origin) };
  } catch (e) {
    if (!(e instanceof TransparencyError)) throw e;
    const failed = { name: "release log: measurements published", ok: false, code: e.code, detail: e.message };
    return { ...r, verified: false, checks: [...r.checks, failed], errors: [...r.errors, { code: e.code, message: e.message }] };
  }
}

function unreadable(e: unknown, io: CliIO, json: boolean): number {
  const code = e instanceof UsageError ? "USAGE" : isCloisterError(e) ? e.code : "EVIDENCE_UNREADABLE";
  const message = e instanceof Error ? e.message : String(e);
  if (json) {
    io.out(JSON.stringify({ verified: false, tee: null, tcbStatus: null, advisories: [], measurements: {}, reportData: null, errors: [{ code, message }] }));
  } else {
    io.err(`cloister verify: ${code}: ${message}`);
  }
  return EXIT.usage;
}

export function toJson(r: ReportVerification): Record<string, unknown> {
  return {
    verified: r.verified,
    tee: r.tee,
    simulated: r.simulated,
    tcbStatus: r.tcbStatus,
    advisories: r.advisories,
    measurements: r.measurements,
    reportData: r.reportData,
    errors: r.errors,
    signingAddress: r.signingAddress,
    signingAlgo: r.signingAlgo,
    e2ePublicKey: r.e2ePublicKey,
    appIdentity: r.appIdentity,
    unchecked: r.unchecked,
    checks: r.checks,
  };
}

export function toText(r: ReportVerification): string {
  const head = `${r.verified ? "✓ VERIFIED" : "✗ NOT VERIFIED"}${r.simulated ? " — SIMULATED evidence, proves nothing" : ""} (${r.tee}${r.tcbStatus ? `, TCB ${r.tcbStatus}` : ""})`;
  const lines = [head];
  for (const c of r.checks) {
    const detail = c.detail ? `: ${c.detail}` : "";
    if (c.skipped) lines.push(`– skipped: ${c.name}${detail}`);
    else if (c.ok) lines.push(`✓ ${c.name}${detail}`);
    else lines.push(`✗ ${c.code ?? "FAILED"} ${c.name}${detail}`);
  }
  if (r.advisories.length) lines.push(`advisories: ${r.advisories.join(", ")}`);
  if (r.signingAddress) lines.push(`signing address: ${r.signingAddress}`);
  return lines.join("\n");
}
