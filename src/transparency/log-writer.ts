/**
 * A static, append-only log on disk in the tlog-tiles layout: serve the folder from any
 * web server (or `cloister log serve`). Each append rewrites the tiles it touches and
 * the signed checkpoint; files are replaced atomically (write, then rename) so a reader
 * never sees half a tile. Suited to release logs (thousands of entries): the tree is
 * rebuilt from the entry bundles on open.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { signCheckpoint, openCheckpoint, type Checkpoint } from "./checkpoint.js";
import { leafHash } from "./merkle.js";
import type { NoteSigner } from "./note.js";
import { noteVerifier } from "./note.js";
import { decodeEntryBundle, encodeEntryBundle, TILE_WIDTH, tilePath, tilesOf } from "./tiles.js";
import { MerkleTree } from "./tree.js";
import { TransparencyCode, TransparencyError } from "./errors.js";

function writeAtomic(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

export class StaticLogWriter {
  private readonly tree: MerkleTree;
  private readonly all: Uint8Array[];

  private constructor(
    readonly dir: string,
    readonly origin: string,
    private readonly signer: NoteSigner,
    entries: Uint8Array[],
  ) {
    this.all = entries;
    this.tree = new MerkleTree(entries.map(leafHash));
  }

  /** Opens the log in `dir`, creating an empty one (size 0) when there is none. */
  static open(dir: string, signer: NoteSigner, origin = signer.name): StaticLogWriter {
    const cpPath = join(dir, "checkpoint");
    if (!existsSync(cpPath)) {
      const w = new StaticLogWriter(dir, origin, signer, []);
      w.publish();
      return w;
    }
    const cp = openCheckpoint(readFileSync(cpPath, "utf8"), noteVerifier(signer.name, signer.publicKey), origin);
    const entries: Uint8Array[] = [];
    for (let n = 0; n * TILE_WIDTH < cp.size; n++) {
      const width = Math.min(TILE_WIDTH, cp.size - n * TILE_WIDTH);
      entries.push(...decodeEntryBundle(new Uint8Array(readFileSync(join(dir, tilePath("entries", n, width)))), width));
    }
    const w = new StaticLogWriter(dir, origin, signer, entries);
    if (!Buffer.from(w.tree.root()).equals(Buffer.from(cp.root))) {
      throw new TransparencyError(TransparencyCode.CHECKPOINT_INVALID, "the log's entries do not hash to its own checkpoint: the folder was altered");
    }
    return w;
  }

  get size(): number {
    return this.tree.size;
  }

  entries(): readonly Uint8Array[] {
    return this.all;
  }

  /** Appends entries and publishes a new signed checkpoint; returns the first new index. */
  append(entries: readonly Uint8Array[]): { first: number; checkpoint: Checkpoint } {
    const first = this.size;
    for (const e of entries) {
      encodeEntryBundle([e]); // size check before anything changes
    }
    for (const e of entries) {
      this.all.push(e);
      this.tree.append(leafHash(e));
    }
    return { first, checkpoint: this.publish(first) };
  }

  private publish(from = 0): Checkpoint {
    const size = this.size;
    // Entry bundles and tiles from the one holding `from` onwards (earlier ones are unchanged).
    for (const t of tilesOf(size)) {
      const span = TILE_WIDTH ** (t.level + 1);
      if ((t.index + 1) * span <= from) continue;
      const hashes = new Uint8Array(t.width * 32);
      for (let j = 0; j < t.width; j++) {
        const h = this.tree.node(t.level * 8, t.index * TILE_WIDTH + j);
        if (!h) throw new TransparencyError(TransparencyCode.TILE_INVALID, "missing subtree hash");
        hashes.set(h, j * 32);
      }
      writeAtomic(join(this.dir, tilePath(t.level, t.index, t.width)), hashes);
      if (t.level === 0) {
        const bundle = this.all.slice(t.index * TILE_WIDTH, t.index * TILE_WIDTH + t.width);
        writeAtomic(join(this.dir, tilePath("entries", t.index, t.width)), encodeEntryBundle(bundle));
      }
    }
    const checkpoint: Checkpoint = { origin: this.origin, size, root: this.tree.root(), extensions: [] };
    writeAtomic(join(this.dir, "checkpoint"), signCheckpoint(checkpoint, [this.signer]));
    return checkpoint;
  }
}
