/**
 * The client's release-log policy (Apple PCC's rule): trust a node only when its
 * measurements are those of a release published in the log, proven by an inclusion
 * proof under a checkpoint consistent with the last one this client saw.
 */
import type { Checkpoint } from "./checkpoint.js";
import { TransparencyCode, TransparencyError } from "./errors.js";
import { LogReader, httpLogFiles, type CheckpointState, type ReadLogFile } from "./log-reader.js";
import { parseVerifierKey } from "./note.js";
import { openRelease, releaseMatches, type ReleaseMatch, type SignedRelease } from "./release.js";
import { MAX_ISSUER_KEYS_PER_EPOCH, openIssuerKey, type SignedIssuerKey } from "./issuer-statement.js";

interface IssuerKeyEntry {
  readonly key: SignedIssuerKey;
  readonly index: number;
  readonly entry: Uint8Array;
}

export interface IssuerKeyMatch {
  readonly key: SignedIssuerKey;
  readonly index: number;
  readonly treeSize: number;
}

export interface ReleaseLogOptions {
  /** Where the log's files are: an http(s) base URL, or a reader of your own. */
  readonly url?: string;
  readonly read?: ReadLogFile;
  /** The log's note verifier key, "<origin>+<keyid>+<base64 key>". */
  readonly key: string;
  /** Release signer keys (hex Ed25519) accepted; default: every signature that verifies. */
  readonly signers?: readonly string[];
  /** Where the last accepted checkpoint is kept (default: memory of this process). */
  readonly state?: CheckpointState;
  readonly fetch?: typeof fetch;
}

export class ReleaseLog {
  readonly origin: string;
  private readonly reader: LogReader;
  private readonly signers: readonly string[] | undefined;
  private cache: { cp: Checkpoint; releases: { release: SignedRelease; index: number; entry: Uint8Array }[]; issuerKeys: IssuerKeyEntry[] } | null = null;

  constructor(opts: ReleaseLogOptions) {
    const verifier = parseVerifierKey(opts.key);
    const read = opts.read ?? (opts.url ? httpLogFiles(opts.url, opts.fetch) : null);
    if (!read) throw new TransparencyError(TransparencyCode.LOG_UNREACHABLE, "a release log needs a url or a reader");
    this.origin = verifier.name;
    this.reader = new LogReader(verifier, read, opts.state);
    this.signers = opts.signers;
  }

  /** Fetches the newest checkpoint (fork- and rollback-checked) and the releases under it. */
  async refresh(): Promise<Checkpoint> {
    const cp = await this.reader.checkpoint();
    if (this.cache && this.cache.cp.size === cp.size) return cp;
    const entries = await this.reader.entries(cp);
    const releases: { release: SignedRelease; index: number; entry: Uint8Array }[] = [];
    const issuerKeys: IssuerKeyEntry[] = [];
    entries.forEach((entry, index) => {
      let value: unknown;
      try {
        value = JSON.parse(new TextDecoder().decode(entry));
      } catch {
        return; // not JSON: never a match
      }
      try {
        if ((value as { statement?: { type?: unknown } } | null)?.statement?.type === "cloister/token-issuer-key/v1") issuerKeys.push({ key: openIssuerKey(value, this.signers), index, entry });
        else releases.push({ release: openRelease(value, this.signers), index, entry });
      } catch {
        // Not a statement this client accepts (another signer, another format): never a match.
      }
    });
    this.cache = { cp, releases, issuerKeys };
    return cp;
  }

  /**
   * The published statement of token issuer key `keyIdHex`, with its inclusion proved; null
   * when the log does not publish it. Throws TOKEN_ISSUER_KEYS_TOO_MANY when the key's epoch
   * has more than MAX_ISSUER_KEYS_PER_EPOCH keys (a log that could single users out).
   */
  async findIssuerKey(keyIdHex: string): Promise<IssuerKeyMatch | null> {
    const cp = await this.refresh();
    const all = this.cache?.issuerKeys ?? [];
    const hit = all.find((k) => k.key.statement.key_id === keyIdHex.toLowerCase());
    if (!hit) return null;
    const epoch = hit.key.statement.epoch;
    const sameEpoch = new Set(all.filter((k) => k.key.statement.epoch === epoch).map((k) => k.key.statement.key_id));
    if (sameEpoch.size > MAX_ISSUER_KEYS_PER_EPOCH) {
      throw new TransparencyError(TransparencyCode.TOKEN_ISSUER_KEYS_TOO_MANY, `the log publishes ${sameEpoch.size} issuer keys for epoch ${epoch} (at most ${MAX_ISSUER_KEYS_PER_EPOCH}): enough to tell users apart`);
    }
    await this.reader.proveInclusion(cp, hit.index, hit.entry);
    return { key: hit.key, index: hit.index, treeSize: cp.size };
  }

  /** The newest published release matching `measurements`, with its inclusion proved; null when none. */
  async find(measurements: Readonly<Record<string, string>>): Promise<ReleaseMatch | null> {
    const cp = await this.refresh();
    const candidates = (this.cache?.releases ?? []).filter((r) => releaseMatches(r.release.statement, measurements));
    const best = candidates.at(-1);
    if (!best) return null;
    await this.reader.proveInclusion(cp, best.index, best.entry);
    return { release: best.release, index: best.index, treeSize: cp.size };
  }
}
