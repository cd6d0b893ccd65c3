/**
 * The node's receipt log: every signed exchange (the `sha256(request):sha256(response)`
 * text that the node signed) becomes one leaf, salted per request so the log reveals
 * nothing about content. Checkpoints are signed by the node's attested signing key, so
 * a leaf's inclusion proof under a signed checkpoint shows anyone that this attested
 * node served exactly this exchange, and a node cannot later deny or rewrite it.
 * One log per boot: its origin names the boot's signing address.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, fromHex, toHex, utf8 } from "../util/bytes.js";
import { pooledRandomBytes } from "../util/random-pool.js";
import { toBase64 } from "./base64.js";
import { formatCheckpoint, parseCheckpointText } from "./checkpoint.js";
import { consistencyProof, inclusionProof, leafHash, verifyInclusion, type Hash } from "./merkle.js";
import type { OnSigned, SignedKind, SignedRecord } from "./signed-hook.js";
import { MerkleTree } from "./tree.js";

const LEAF_CONTEXT = utf8.encode("cloister/receipt/v1\0");

export function receiptLeaf(salt: Uint8Array, signedText: string): Hash {
  return leafHash(concatBytes(LEAF_CONTEXT, salt, utf8.encode(signedText)));
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
  readonly salt: string;
  readonly kind?: SignedKind;
  readonly tree_size: number;
  readonly inclusion_proof: readonly string[];
  /** The checkpoint text (C2SP tlog-checkpoint body) the proof is against. */
  readonly checkpoint: string;
}

export class ReceiptLog {
  private readonly hashed = new MerkleTree();
  /**
   * Leaves appended and not hashed yet: a leaf's index is known at once (it goes into the
   * completion's header), its hashes are computed after the answer went out (setImmediate),
   * or at once by any read of the tree.
   */
  private queued: Array<{ salt: Uint8Array; text: string }> = [];
  private hashing: ReturnType<typeof setImmediate> | null = null;
  private readonly byId = new Map<string, ReceiptRef>();
  private readonly bySignature = new Map<string, ReceiptRef>();

  constructor(readonly origin: string) {}

  /** The tree with every appended leaf in it. */
  private get tree(): MerkleTree {
    if (this.queued.length > 0) this.hashQueued();
    return this.hashed;
  }

  private hashQueued = (): void => {
    if (this.hashing) clearImmediate(this.hashing);
    this.hashing = null;
    const leaves = this.queued;
    this.queued = [];
    for (const l of leaves) this.hashed.append(receiptLeaf(l.salt, l.text));
  };

  get size(): number {
    return this.hashed.size + this.queued.length;
  }

  /** Logs one signed exchange (once per signature, whatever ids it is found by). */
  append(id: string, signedText: string, signature: string, kind: SignedKind = "completion"): ReceiptRef {
    const seen = this.bySignature.get(signature);
    if (seen) {
      this.byId.set(id, seen);
      return seen;
    }
    const salt = pooledRandomBytes(32);
    const ref = { index: this.size, salt: toHex(salt), kind };
    this.queued.push({ salt, text: signedText });
    this.hashing ??= setImmediate(this.hashQueued);
    this.byId.set(id, ref);
    this.bySignature.set(signature, ref);
    return ref;
  }

  /** The OnSigned hook (./signed-hook.ts) for every signing point: returns the leaf index. */
  readonly record: OnSigned = (r: SignedRecord): number => this.append(receiptId(r.kind, r.id), r.text, r.signature, r.kind).index;

  /** Hashes proving the tree of `from` leaves is a prefix of the tree of `to` (RFC 9162 §2.1.4). */
  consistency(from: number, to = this.tree.size): string[] {
    return consistencyProof(this.tree, from, to).map(toHex);
  }

  checkpointText(size = this.tree.size): string {
    return formatCheckpoint({ origin: this.origin, size, root: this.tree.root(size), extensions: [] });
  }

  proof(id: string): ReceiptProof | null {
    const ref = this.byId.get(id);
    if (!ref) return null;
    const size = this.tree.size;
    return { ...ref, tree_size: size, inclusion_proof: inclusionProof(this.tree, ref.index, size).map(toHex), checkpoint: this.checkpointText(size) };
  }
}

/**
 * Checks that `signedText` is leaf `proof.index` under `proof.checkpoint` (whose
 * signature the caller checks with the node's attested key). True or false, never throws.
 */
export function verifyReceiptInclusion(signedText: string, proof: ReceiptProof): boolean {
  try {
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
