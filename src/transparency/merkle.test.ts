import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../util/bytes.js";
import { consistencyProof, EMPTY_ROOT, inclusionProof, leafHash, rootOf, verifyConsistency, verifyInclusion, type Hash } from "./merkle.js";
import { MerkleTree } from "./tree.js";

// RFC 6962 / RFC 9162 reference tree (Certificate Transparency's test data, also in
// transparency-dev/merkle testonly): leaves, root per size, and known proofs.
const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map((h) => leafHash(fromHex(h)));
const ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];
const INCLUSION = [
  { index: 0, size: 8, proof: ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"] },
  { index: 5, size: 8, proof: ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"] },
];
const CONSISTENCY = [
  { first: 2, second: 8, proof: ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"] },
  { first: 6, second: 8, proof: ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"] },
];

describe("Merkle tree (RFC 9162 §2.1)", () => {
  const tree = new MerkleTree(LEAVES);

  it("hashes the reference tree to the published root at every size", () => {
    expect(toHex(rootOf([]))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(toHex(tree.root(0))).toBe(toHex(EMPTY_ROOT));
    for (let n = 1; n <= 8; n++) {
      expect(toHex(rootOf(LEAVES.slice(0, n)))).toBe(ROOTS[n - 1]);
      expect(toHex(tree.root(n))).toBe(ROOTS[n - 1]);
    }
  });

  it("produces and accepts the published inclusion proofs", () => {
    for (const v of INCLUSION) {
      expect(inclusionProof(tree, v.index, v.size).map(toHex)).toEqual(v.proof);
      expect(verifyInclusion(LEAVES[v.index] as Hash, v.index, v.size, v.proof.map(fromHex), fromHex(ROOTS[v.size - 1] as string))).toBe(true);
    }
  });

  it("produces and accepts the published consistency proofs", () => {
    for (const v of CONSISTENCY) {
      expect(consistencyProof(tree, v.first, v.second).map(toHex)).toEqual(v.proof);
      expect(verifyConsistency(v.first, v.second, fromHex(ROOTS[v.first - 1] as string), fromHex(ROOTS[v.second - 1] as string), v.proof.map(fromHex))).toBe(true);
    }
  });

  const many = Array.from({ length: 40 }, (_, i) => leafHash(new Uint8Array([i, i >> 8, 7])));
  const big = new MerkleTree(many);
  const roots = Array.from({ length: many.length + 1 }, (_, n) => rootOf(many.slice(0, n)));

  it("agrees with the reference root for every size of an incrementally built tree", () => {
    for (let n = 0; n <= many.length; n++) expect(toHex(big.root(n))).toBe(toHex(roots[n] as Hash));
  });

  it("verifies every inclusion and consistency proof, and refuses each mangled one", () => {
    for (let n = 1; n <= many.length; n++) {
      for (let i = 0; i < n; i++) {
        const p = inclusionProof(big, i, n);
        expect(verifyInclusion(many[i] as Hash, i, n, p, roots[n] as Hash)).toBe(true);
        if (n < many.length) expect(verifyInclusion(many[i] as Hash, i, n + 1, p, roots[n + 1] as Hash)).toBe(false);
        if (n > 1) expect(verifyInclusion(many[(i + 1) % n] as Hash, i, n, p, roots[n] as Hash)).toBe(false);
        if (p.length > 0) {
          const bad = p.map((h) => h.slice());
          (bad[0] as Hash)[0] = ((bad[0] as Hash)[0] as number) ^ 1;
          expect(verifyInclusion(many[i] as Hash, i, n, bad, roots[n] as Hash)).toBe(false);
          expect(verifyInclusion(many[i] as Hash, i, n, p.slice(0, -1), roots[n] as Hash)).toBe(false);
          expect(verifyInclusion(many[i] as Hash, i, n, [...p, p[0] as Hash], roots[n] as Hash)).toBe(false);
        }
      }
      for (let m = 0; m <= n; m++) {
        const p = consistencyProof(big, m, n);
        expect(verifyConsistency(m, n, roots[m] as Hash, roots[n] as Hash, p)).toBe(true);
        if (m > 0 && m < n) {
          expect(verifyConsistency(m, n, roots[m] as Hash, roots[n - 1] as Hash, p)).toBe(false);
          expect(verifyConsistency(m, n, roots[m] as Hash, roots[n] as Hash, p.slice(1))).toBe(false);
          const bad = p.map((h) => h.slice());
          { const last = bad[bad.length - 1] as Hash; last[5] = (last[5] as number) ^ 0x80; }
          expect(verifyConsistency(m, n, roots[m] as Hash, roots[n] as Hash, bad)).toBe(false);
        }
      }
    }
  });

  it("never throws on arbitrary proof input, only answers false", () => {
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 80 }), fc.integer({ min: -5, max: 80 }), fc.array(fc.uint8Array({ minLength: 0, maxLength: 33 }), { maxLength: 10 }), (i, n, proof) => {
        expect(typeof verifyInclusion(many[0] as Hash, i, n, proof, roots[8] as Hash)).toBe("boolean");
        expect(typeof verifyConsistency(i, n, roots[3] as Hash, roots[8] as Hash, proof)).toBe("boolean");
      }),
      { numRuns: 500 },
    );
  });

  it("keeps the reference root and proofs past its storage's chunk boundaries (256 hashes per chunk)", () => {
    const leaves = Array.from({ length: 1100 }, (_, i) => leafHash(new Uint8Array([i & 0xff, i >> 8, 9])));
    const t = new MerkleTree(leaves);
    for (const n of [255, 256, 257, 512, 513, 1024, 1100]) {
      const root = rootOf(leaves.slice(0, n));
      expect(toHex(t.root(n))).toBe(toHex(root));
      for (const i of [0, 255, 256, n - 1]) {
        if (i >= n) continue;
        expect(verifyInclusion(leaves[i] as Hash, i, n, inclusionProof(t, i, n), root)).toBe(true);
      }
    }
    expect(toHex(t.leaf(700))).toBe(toHex(leaves[700] as Hash));
    expect(toHex(t.node(8, 3) as Hash)).toBe(toHex(rootOf(leaves.slice(768, 1024))));
    expect(t.node(8, 4)).toBeUndefined();
  });

  it("hands out copies: writing into a returned hash does not change the tree", () => {
    const t = new MerkleTree(LEAVES);
    const before = toHex(t.root());
    for (const h of [t.root(), t.leaf(0), t.rangeHash(0, 4), t.node(1, 0) as Hash]) h.fill(0);
    expect(toHex(t.root())).toBe(before);
    expect(toHex(t.root(0))).toBe(toHex(EMPTY_ROOT));
    t.root(0).fill(1);
    expect(toHex(EMPTY_ROOT)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("refuses to build proofs outside the tree", () => {
    expect(() => inclusionProof(tree, 8, 8)).toThrow(RangeError);
    expect(() => inclusionProof(tree, 0, 9)).toThrow(RangeError);
    expect(() => consistencyProof(tree, 5, 3)).toThrow(RangeError);
  });
});
