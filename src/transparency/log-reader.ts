/**
 * Reads a tlog-tiles log from an untrusted server. Trust comes only from the log's
 * signature on the checkpoint and from proofs verified against it; the reader keeps the
 * last checkpoint it accepted and refuses one that is not consistent with it (a fork,
 * or a log that rewrote history) or that is older (a rollback).
 */
import { equalBytes } from "../util/bytes.js";
import { openCheckpoint, type Checkpoint } from "./checkpoint.js";
import { TransparencyCode, TransparencyError } from "./errors.js";
import { consistencyProof, inclusionProof, leafHash, verifyConsistency, verifyInclusion, type Hash } from "./merkle.js";
import type { NoteVerifier } from "./note.js";
import { decodeEntryBundle, TILE_WIDTH, TileHasher, tilePath, withTiles } from "./tiles.js";

export type ReadLogFile = (path: string) => Promise<Uint8Array>;

/** Where a reader keeps the last checkpoint it accepted (memory, a file, the store). */
export interface CheckpointState {
  load(): Promise<Checkpoint | null> | Checkpoint | null;
  save(cp: Checkpoint): Promise<void> | void;
}

export function memoryCheckpointState(): CheckpointState {
  let cp: Checkpoint | null = null;
  return { load: () => cp, save: (c) => void (cp = c) };
}

/** Reads log files over HTTP(S) below `baseUrl`, with the given fetch. */
export function httpLogFiles(baseUrl: string, fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis)): ReadLogFile {
  const base = baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
  return async (path) => {
    let res: Response;
    try {
      res = await fetchImpl(new URL(path, base), { redirect: "error" });
    } catch (cause) {
      throw new TransparencyError(TransparencyCode.LOG_UNREACHABLE, `log file ${path} could not be fetched`, { cause });
    }
    if (!res.ok) throw new TransparencyError(TransparencyCode.LOG_UNREACHABLE, `log file ${path}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
}

export class LogReader {
  constructor(
    private readonly verifier: NoteVerifier,
    private readonly read: ReadLogFile,
    private readonly state: CheckpointState = memoryCheckpointState(),
    private readonly origin: string = verifier.name,
  ) {}

  private hasher(size: number): TileHasher {
    return new TileHasher(size);
  }

  /** Fetches and verifies the newest checkpoint, proves it extends the last one seen, and remembers it. */
  async checkpoint(): Promise<Checkpoint> {
    const note = new TextDecoder().decode(await this.read("checkpoint"));
    const cp = openCheckpoint(note, this.verifier, this.origin);
    const last = await this.state.load();
    if (last) await this.checkConsistent(last, cp);
    await this.state.save(cp);
    return cp;
  }

  /** Throws LOG_FORKED when `next` does not extend `last`, LOG_ROLLED_BACK when it is older. */
  async checkConsistent(last: Checkpoint, next: Checkpoint): Promise<void> {
    if (next.size === last.size) {
      if (!equalBytes(next.root, last.root)) {
        throw new TransparencyError(TransparencyCode.LOG_FORKED, `the log ${this.origin} signed two different trees of size ${next.size}: it forked`);
      }
      return;
    }
    if (next.size < last.size) {
      throw new TransparencyError(TransparencyCode.LOG_ROLLED_BACK, `the log ${this.origin} went back from ${last.size} to ${next.size} entries`);
    }
    const h = this.hasher(next.size);
    const proof = await withTiles(h, this.read, () => consistencyProof(h, last.size, next.size));
    if (!verifyConsistency(last.size, next.size, last.root, next.root, proof)) {
      throw new TransparencyError(TransparencyCode.LOG_FORKED, `the log ${this.origin} at ${next.size} entries does not extend the ${last.size} it showed before: it forked`);
    }
  }

  /** All entries of the tree `cp` (entry bundles are untrusted: prove what you use). */
  async entries(cp: Checkpoint): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (let n = 0; n * TILE_WIDTH < cp.size; n++) {
      const width = Math.min(TILE_WIDTH, cp.size - n * TILE_WIDTH);
      out.push(...decodeEntryBundle(await this.read(tilePath("entries", n, width)), width));
    }
    return out;
  }

  /** Proves `entry` is leaf `index` of `cp`; returns the verified proof or throws LOG_PROOF_INVALID. */
  async proveInclusion(cp: Checkpoint, index: number, entry: Uint8Array): Promise<Hash[]> {
    return this.proveLeafInclusion(cp, index, leafHash(entry));
  }

  async proveLeafInclusion(cp: Checkpoint, index: number, leaf: Hash): Promise<Hash[]> {
    if (index < 0 || index >= cp.size) throw new TransparencyError(TransparencyCode.PROOF_INVALID, `no entry ${index} in a log of ${cp.size}`);
    const h = this.hasher(cp.size);
    const proof = await withTiles(h, this.read, () => inclusionProof(h, index, cp.size));
    if (!verifyInclusion(leaf, index, cp.size, proof, cp.root)) {
      throw new TransparencyError(TransparencyCode.PROOF_INVALID, `entry ${index} is not in the tree the log signed`);
    }
    return proof;
  }
}
