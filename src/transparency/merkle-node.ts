/**
 * The receipt log's tree hashes by OpenSSL (node:crypto), for the node: a leaf and its
 * share of inner nodes cost ~10 µs per completion with @noble/hashes and ~2 µs here
 * (bench/chain.bench.ts). ./merkle.ts keeps the browser-safe ones; both give the same
 * bytes (./merkle-node.test.ts).
 */
import { createHash } from "node:crypto";
import type { Hash, TreeHashes } from "./merkle.js";

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** A digest Buffer owns its 32-byte ArrayBuffer: seen as a plain Uint8Array (Buffer's slice() is a view, a Hash's is a copy). */
const plain = (digest: Buffer): Hash => new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);

export const nodeTreeHashes: TreeHashes = {
  leaf(...parts): Hash {
    const h = createHash("sha256").update(LEAF_PREFIX);
    for (const p of parts) h.update(p);
    return plain(h.digest());
  },
  node: (left, right): Hash => plain(createHash("sha256").update(NODE_PREFIX).update(left).update(right).digest()),
};
