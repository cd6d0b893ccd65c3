import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { concatBytes, toHex } from "../util/bytes.js";
import { leafHash, nobleTreeHashes, nodeHash } from "./merkle.js";
import { nodeTreeHashes } from "./merkle-node.js";
import { ReceiptLog, verifyReceiptInclusion } from "./receipt-log.js";
import { MerkleTree } from "./tree.js";

describe("the node's OpenSSL tree hashes", () => {
  it("give @noble's bytes for leaves (over their parts) and inner nodes, as plain Uint8Arrays", () => {
    for (let n = 0; n < 200; n++) {
      const parts = [randomBytes(n % 7), randomBytes(n), randomBytes(3)];
      const leaf = nodeTreeHashes.leaf(...parts);
      expect(toHex(leaf)).toBe(toHex(leafHash(concatBytes(...parts))));
      expect(toHex(leaf)).toBe(toHex(nobleTreeHashes.leaf(...parts)));
      const [l, r] = [randomBytes(32), randomBytes(32)];
      const node = nodeTreeHashes.node(l, r);
      expect(toHex(node)).toBe(toHex(nodeHash(l, r)));
      // A Buffer's slice() is a view: the tree hands out copies with slice(), so no Buffer may escape.
      expect(Object.getPrototypeOf(node)).toBe(Uint8Array.prototype);
      expect(node.byteLength).toBe(32);
    }
  });

  it("build the same tree as @noble's, root and every range", () => {
    const leaves = Array.from({ length: 37 }, () => new Uint8Array(randomBytes(32)));
    const a = new MerkleTree(leaves, nodeTreeHashes);
    const b = new MerkleTree(leaves);
    for (let size = 0; size <= leaves.length; size++) expect(toHex(a.root(size))).toBe(toHex(b.root(size)));
    for (let s = 0; s < 37; s += 5) for (let e = s + 1; e <= 37; e += 3) expect(toHex(a.rangeHash(s, e))).toBe(toHex(b.rangeHash(s, e)));
  });

  it("make a receipt log whose proofs a client verifies with the browser-safe code", () => {
    const log = new ReceiptLog("test/receipts", nodeTreeHashes);
    const texts = Array.from({ length: 21 }, (_, i) => `${"a".repeat(63)}${i % 10}:${"b".repeat(64)}`);
    texts.forEach((t, i) => log.append(`id-${i}`, t));
    texts.forEach((t, i) => {
      const proof = log.proof(`id-${i}`);
      expect(proof && verifyReceiptInclusion(t, proof)).toBe(true);
      expect(proof && verifyReceiptInclusion(`${t}x`, proof)).toBe(false);
    });
  });
});
