/**
 * The hub: publish (verify the developer's signature, the name's owner, run the scanner,
 * store the immutable version), list/search, show (manifest, report, versions), yank
 * (signed by the owner), resolve `name[@version]` for a run, and keep the developer's
 * telemetry (the observability filter's records only).
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { verifySignedBundle, type SignedBundle } from "../bundle.js";
import { canonicalJson } from "../canonical.js";
import { AgentError, AgentCode } from "../errors.js";
import type { AgentManifest } from "../manifest.js";
import type { TelemetryRecord } from "../observability.js";
import { reportHash, scanBundle, type ScanReport } from "../scanner/scan.js";
import type { Sha256 } from "../../types.js";
import { fromHex, utf8 } from "../../util/bytes.js";
import type { HubStore, VersionRow } from "./store.js";

export interface VersionSummary {
  readonly version: string;
  readonly bundle_sha256: string;
  readonly scanner_verdict: string;
  readonly published_at: number;
  readonly yanked: boolean;
}

export interface AgentView {
  readonly name: string;
  readonly developer_key: string;
  readonly latest: string | null;
  readonly manifest: AgentManifest;
  readonly scanner_report: ScanReport;
  readonly scanner_report_sha256: string;
  readonly bundle_sha256: string;
  readonly versions: readonly VersionSummary[];
}

export interface ResolvedVersion {
  readonly signed: SignedBundle;
  readonly bundleSha256: Sha256;
  readonly report: ScanReport;
  readonly reportSha256: Sha256;
}

export const yankSigningText = (name: string, version: string): string => `cloister/agent-yank/v1:${name}@${version}`;
export const telemetrySigningText = (name: string, time: number): string => `cloister/agent-telemetry/v1:${name}:${time}`;

export class Hub {
  constructor(
    private readonly store: HubStore,
    private readonly now: () => number = Date.now,
  ) {}

  publish(value: unknown): { name: string; version: string; bundle_sha256: string; scanner_report: ScanReport } {
    const { signed, hash } = verifySignedBundle(value);
    const m = signed.bundle.manifest;
    const owner = this.store.ownerOf(m.name);
    if (owner !== null && owner !== signed.developer_key) throw new AgentError(AgentCode.NOT_OWNER, `${m.name} belongs to another developer key`);
    if (this.store.version(m.name, m.version)) throw new AgentError(AgentCode.VERSION_EXISTS, `${m.name}@${m.version} is already published; versions are immutable, publish a new one`);
    const report = scanBundle(signed.bundle.code, m, hash);
    const ok = this.store.insertVersion({
      name: m.name,
      version: m.version,
      developerKey: signed.developer_key,
      bundleSha256: hash,
      signedJson: JSON.stringify(signed),
      manifestJson: canonicalJson(m),
      reportJson: canonicalJson(report),
      reportSha256: reportHash(report),
      publishedAt: this.now(),
    });
    if (!ok) throw new AgentError(AgentCode.VERSION_EXISTS, `${m.name}@${m.version} was published concurrently`);
    return { name: m.name, version: m.version, bundle_sha256: hash, scanner_report: report };
  }

  list(query = "", limit = 50): { name: string; version: string; description: string; scanner_verdict: string }[] {
    return this.store.search(query.slice(0, 100), Math.min(Math.max(limit, 1), 200)).map((r) => ({
      name: r.name,
      version: r.version,
      description: (JSON.parse(r.manifestJson) as AgentManifest).description,
      scanner_verdict: (JSON.parse(r.reportJson) as ScanReport).verdict,
    }));
  }

  show(name: string, version?: string): AgentView {
    const rows = this.store.versions(name);
    if (rows.length === 0) throw new AgentError(AgentCode.NOT_FOUND, `no agent named ${name}`);
    const live = rows.filter((r) => r.yankedAt === null);
    const pick = version ? rows.find((r) => r.version === version) : live[live.length - 1] ?? rows[rows.length - 1];
    if (!pick) throw new AgentError(AgentCode.NOT_FOUND, `${name} has no version ${version ?? ""}`);
    return {
      name,
      developer_key: pick.developerKey,
      latest: live[live.length - 1]?.version ?? null,
      manifest: JSON.parse(pick.manifestJson) as AgentManifest,
      scanner_report: JSON.parse(pick.reportJson) as ScanReport,
      scanner_report_sha256: pick.reportSha256,
      bundle_sha256: pick.bundleSha256,
      versions: rows.map(summary),
    };
  }

  /** `name` or `name@version`; yanked versions are never run. */
  resolve(ref: string): ResolvedVersion {
    const [name, version] = ref.split("@") as [string, string | undefined];
    const rows = this.store.versions(name);
    const row = version ? rows.find((r) => r.version === version) : rows.filter((r) => r.yankedAt === null).pop();
    if (!row) throw new AgentError(AgentCode.NOT_FOUND, `no runnable version of ${ref}`);
    if (row.yankedAt !== null) throw new AgentError(AgentCode.YANKED, `${name}@${row.version} was yanked by its developer`);
    // Re-verified on every run: the stored row is only as good as the signature it carries.
    const { signed, hash } = verifySignedBundle(JSON.parse(row.signedJson));
    if (hash !== row.bundleSha256) throw new AgentError(AgentCode.BUNDLE_INVALID, "stored bundle does not match its recorded hash");
    return { signed, bundleSha256: hash, report: JSON.parse(row.reportJson) as ScanReport, reportSha256: row.reportSha256 as Sha256 };
  }

  yank(name: string, version: string, signatureHex: string): void {
    const row = this.store.version(name, version);
    if (!row) throw new AgentError(AgentCode.NOT_FOUND, `no agent ${name}@${version}`);
    if (!verifyDeveloper(row.developerKey, yankSigningText(name, version), signatureHex)) throw new AgentError(AgentCode.NOT_OWNER, "the yank is not signed by the agent's developer key");
    this.store.yank(name, version, this.now());
  }

  recordTelemetry(name: string, version: string, record: TelemetryRecord): void {
    // Hour granularity: a precise time per run would let the developer line runs up with users.
    const hour = Math.floor(this.now() / 3_600_000) * 3_600_000;
    this.store.addTelemetry(name, version, hour, canonicalJson(record));
  }

  /** The developer's view; the request is signed by the developer key within 5 minutes. */
  telemetry(name: string, time: number, signatureHex: string): { version: string; at: number; record: TelemetryRecord }[] {
    const owner = this.store.ownerOf(name);
    if (!owner) throw new AgentError(AgentCode.NOT_FOUND, `no agent named ${name}`);
    if (Math.abs(this.now() / 1000 - time) > 300 || !verifyDeveloper(owner, telemetrySigningText(name, time), signatureHex)) {
      throw new AgentError(AgentCode.NOT_OWNER, "telemetry is for the agent's developer: sign cloister/agent-telemetry/v1:<name>:<unix seconds> with the developer key");
    }
    return this.store.telemetry(name, 500).map((t) => ({ version: t.version, at: t.at, record: JSON.parse(t.record) as TelemetryRecord }));
  }
}

function summary(r: VersionRow): VersionSummary {
  return { version: r.version, bundle_sha256: r.bundleSha256, scanner_verdict: (JSON.parse(r.reportJson) as ScanReport).verdict, published_at: r.publishedAt, yanked: r.yankedAt !== null };
}

function verifyDeveloper(keyHex: string, text: string, signatureHex: string): boolean {
  try {
    return ed25519.verify(fromHex(signatureHex), utf8.encode(text), fromHex(keyHex));
  } catch {
    return false;
  }
}
