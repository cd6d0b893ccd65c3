/**
 * The node's receipt log: every signed exchange (the `sha256(request):sha256(response)`
 * text that the node signed) becomes one leaf, salted per request so the log reveals
 * nothing about content. Checkpoints are signed by the node's attested signing key, so
 * a leaf's inclusion proof under a signed checkpoint shows anyone that this attested
 * node served exactly this exchange, and a node cannot later deny or rewrite it.
 * One log per boot: its origin names the boot's signing address.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { fromHex, toHex, utf8 } from "../util/bytes.js";
import { pooledRandomBytes } from "../util/random-pool.js";
import { toBase64 } from "./base64.js";
import { formatCheckpoint, parseCheckpointText } from "./checkpoint.js";
import { consistencyProof, inclusionProof, nobleTreeHashes, verifyInclusion, type Hash, type TreeHashes } from "./merkle.js";
import type { OnSigned, SignedKind, SignedRecord } from "./signed-hook.js";
import { MerkleTree } from "./tree.js";
import { ByteColumn } from "./byte-column.js";

const LEAF_CONTEXT = utf8.encode("cloister/receipt/v1\0");

/** `hashes`: whose SHA-256 (the same bytes either way; a node's log passes OpenSSL's). */
export function receiptLeaf(salt: Uint8Array, signedText: string, hashes: TreeHashes = nobleTreeHashes): Hash {
  return hashes.leaf(LEAF_CONTEXT, salt, utf8.encode(signedText));
}

export interface ReceiptRef {
  readonly index: number;
  readonly salt: string;
  /** What was signed: a completion, an agent run receipt, a contribution receipt, a key release. */
  readonly kind: SignedKind;
}

/** The id a record is fetched by: a completion's request id as it is, anything else `<kind>:<id>`. */
export function receiptId(kind: SignedKind, id: string): string {
  return kind === "completion" ? id : `${kind}:${id}`;
}

export interface ReceiptProof {
  readonly index: number;
  /**
   * Null for a sealed exchange: its salt travels only in the sealed trailer, since with it
   * anyone could check a guessed prompt and answer against the leaf (the reason a sealed
   * exchange's signature is never served in the clear either).
   */
  readonly salt: string | null;
  readonly kind?: SignedKind;
  readonly tree_size: number;
  readonly inclusion_proof: readonly string[];
  /** The checkpoint text (C2SP tlog-checkpoint body) the proof is against. */
  readonly checkpoint: string;
}

const KINDS: readonly SignedKind[] = ["completion", "agent-run", "data-contribution", "key-release"];

export interface AppendOptions {
  /** What was signed (default: a completion). */
  readonly kind?: SignedKind;
  /** A second id the same exchange is found by (a pass-through answer's upstream id): no second leaf. */
  readonly alias?: string | null;
  /** The exchange travelled sealed: its proof is served without the salt (ReceiptProof.salt). */
  readonly sealed?: boolean;
}

/** The kind byte's top bit: the leaf's salt is not served (a sealed exchange). */
const SEALED_BIT = 0x80;

/**
 * One log per boot, in memory, of every exchange the node signs, so what a leaf costs is
 * kept for the rest of the boot: its ids and their Map entries on the heap (~190 bytes per
 * pass-through completion, measured by heap snapshot), and ~100 bytes packed outside it
 * (leaf, inner nodes, salt, kind). It was ~1.8 KB, most of it a rope per salt and two
 * objects per hash. Still not bounded: that needs the log on disk (tiles).
 */
export class ReceiptLog {
  private readonly hashed: MerkleTree;
  private readonly salts = new ByteColumn(32);
  private readonly kinds = new ByteColumn(1, 4096);
  /**
   * Texts appended and not hashed yet: a leaf's index is known at once (it goes into the
   * completion's header), its hashes are computed after the answer went out (setImmediate),
   * or at once by any read of the tree.
   */
  private queued: string[] = [];
  private hashing: ReturnType<typeof setImmediate> | null = null;
  private readonly byId = new Map<string, number>();

  /** `hashes`: whose SHA-256 builds the tree (a node passes OpenSSL's, ./merkle-node.ts; the same leaves either way). */
  constructor(
    readonly origin: string,
    private readonly hashes: TreeHashes = nobleTreeHashes,
  ) {
    this.hashed = new MerkleTree([], hashes);
  }

  /** The tree with every appended leaf in it. */
  private get tree(): MerkleTree {
    if (this.queued.length > 0) this.hashQueued();
    return this.hashed;
  }

  private hashQueued = (): void => {
    if (this.hashing) clearImmediate(this.hashing);
    this.hashing = null;
    const texts = this.queued;
    this.queued = [];
    for (const text of texts) this.hashed.append(receiptLeaf(this.salts.view(this.hashed.size), text, this.hashes));
  };

  get size(): number {
    return this.salts.length;
  }

  private kindByte(index: number): number {
    return this.kinds.view(index)[0] as number;
  }

  private ref(index: number): ReceiptRef {
    return { index, salt: toHex(this.salts.view(index)), kind: KINDS[this.kindByte(index) & ~SEALED_BIT] ?? "completion" };
  }

  /** Logs one signed exchange as a new leaf, found by `id` (and `alias`). */
  append(id: string, signedText: string, opts: AppendOptions = {}): ReceiptRef {
    const kind = opts.kind ?? "completion";
    const index = this.salts.push(pooledRandomBytes(32));
    this.kinds.push(Uint8Array.of(KINDS.indexOf(kind) | (opts.sealed === true ? SEALED_BIT : 0)));
    this.queued.push(signedText);
    this.hashing ??= setImmediate(this.hashQueued);
    this.byId.set(id, index);
    // An alias never takes a name already in use (the store's rule for signatures): an
    // upstream that echoed another request's id must not redirect that request's proof.
    if (opts.alias != null && !this.byId.has(opts.alias)) this.byId.set(opts.alias, index);
    return this.ref(index);
  }

  /** The OnSigned hook (./signed-hook.ts) for every signing point: returns the leaf index. */
  readonly record: OnSigned = (r: SignedRecord): number => this.append(receiptId(r.kind, r.id), r.text, { kind: r.kind }).index;

  /** Hashes proving the tree of `from` leaves is a prefix of the tree of `to` (RFC 9162 §2.1.4). */
  consistency(from: number, to = this.tree.size): string[] {
    return consistencyProof(this.tree, from, to).map(toHex);
  }

  checkpointText(size = this.tree.size): string {
    return formatCheckpoint({ origin: this.origin, size, root: this.tree.root(size), extensions: [] });
  }

  proof(id: string): ReceiptProof | null {
    const index = this.byId.get(id);
    if (index === undefined) return null;
    const size = this.tree.size;
    const ref = this.ref(index);
    const sealed = (this.kindByte(index) & SEALED_BIT) !== 0;
    return { ...ref, salt: sealed ? null : ref.salt, tree_size: size, inclusion_proof: inclusionProof(this.tree, index, size).map(toHex), checkpoint: this.checkpointText(size) };
  }
}

/**
 * Checks that `signedText` is leaf `proof.index` under `proof.checkpoint` (whose
 * signature the caller checks with the node's attested key). True or false, never throws.
 */
export function verifyReceiptInclusion(signedText: string, proof: ReceiptProof): boolean {
  try {
    if (typeof proof.salt !== "string") return false;
    const cp = parseCheckpointText(proof.checkpoint);
    if (cp.size !== proof.tree_size) return false;
    const leaf = receiptLeaf(fromHex(proof.salt), signedText);
    return verifyInclusion(leaf, proof.index, proof.tree_size, proof.inclusion_proof.map(fromHex), cp.root);
  } catch {
    return false;
  }
}

export function rootOfCheckpoint(text: string): string {
  return toBase64(parseCheckpointText(text).root);
}

export const receiptDigest = (text: string): string => toHex(sha256(utf8.encode(text)));
