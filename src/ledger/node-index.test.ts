import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { NodeRecord } from "./chain.js";
import { rankNodes } from "./discovery.js";
import { createNodeIndex } from "./node-index.js";
import { modelId, ZERO_HASH, type EvmAddress } from "./typed-data.js";

const A = modelId("a");
const B = modelId("b");

function node(i: number, lat: number, lon: number, model = A, expiresAt = 100n): NodeRecord {
  const enclave = `0x${i.toString(16).padStart(40, "0")}` as EvmAddress;
  return { enclave, operator: enclave, payout: enclave, endpoint: `https://n${i}`, region: "r", lat, lon, measurementsDigest: ZERO_HASH, gpuEvidenceDigest: ZERO_HASH, attestationDigest: ZERO_HASH, tcbStatus: 0, simulated: false, expiresAt, priceVersion: 1, prices: [{ model, promptPerMTok: 1n, completionPerMTok: 1n }] };
}

describe("node index", () => {
  it("returns exactly the k nearest live nodes for a model that a full sort returns", () => {
    const lat = fc.double({ min: -90, max: 90, noNaN: true });
    const lon = fc.double({ min: -180, max: 180, noNaN: true });
    fc.assert(
      fc.property(fc.array(fc.tuple(lat, lon, fc.boolean(), fc.boolean()), { maxLength: 200 }), lat, lon, fc.integer({ min: 1, max: 12 }), (pts, qlat, qlon, k) => {
        const nodes = pts.map(([a, b, m, live], i) => node(i, a, b, m ? A : B, live ? 100n : 5n));
        const idx = createNodeIndex();
        for (const n of nodes) idx.upsert(n);
        const got = idx.nearest({ model: A, near: { lat: qlat, lon: qlon }, nowSeconds: 10n, limit: k }).map((c) => c.distanceKm);
        const want = rankNodes(nodes, { model: A, near: { lat: qlat, lon: qlon }, nowSeconds: 10n }).slice(0, k).map((c) => c.distanceKm);
        // The index ranks by the haversine term from precomputed radians, the full sort by the
        // reported distance: two nodes apart by less than a rounding step (CI found 1e-129
        // degrees) may come in either order, with distances one ulp apart.
        expect(got.length).toBe(want.length);
        got.forEach((d, i) => expect(Math.abs((d ?? 0) - (want[i] ?? 0))).toBeLessThanOrEqual(Math.abs(want[i] ?? 0) * 1e-12));
      }),
      { numRuns: 200 },
    );
  });

  it("orders nodes at equal distance by enclave address, whatever the order of upserts and removals", () => {
    const idx = createNodeIndex();
    for (const i of [4, 1, 9, 4]) idx.upsert(node(i, 0, 0));
    idx.remove(node(4, 0, 0).enclave);
    idx.upsert(node(4, 0, 0));
    const got = idx.nearest({ model: A, near: { lat: 0, lon: 0 }, nowSeconds: 10n, limit: 2 }).map((c) => c.node.enclave);
    expect(got).toEqual([node(1, 0, 0).enclave, node(4, 0, 0).enclave]);
    const ranked = rankNodes([node(9, 0, 0), node(4, 0, 0), node(1, 0, 0)], { model: A, near: { lat: 0, lon: 0 }, nowSeconds: 10n }).map((c) => c.node.enclave);
    expect(ranked).toEqual([1, 4, 9].map((i) => node(i, 0, 0).enclave));
  });

  it("an update moves a node and an expired one is never returned", () => {
    const idx = createNodeIndex();
    idx.upsert(node(1, 10, 10));
    idx.upsert(node(1, -60, 10));
    idx.upsert(node(2, 10, 11, A, 5n));
    const r = idx.nearest({ model: A, near: { lat: 10, lon: 10 }, nowSeconds: 10n, limit: 5 });
    expect(r.map((c) => c.node.lat)).toEqual([-60]);
    expect(idx.size()).toBe(2);
  });

  it("after random upserts, moves and removals it still equals a full sort of what is left, and honours accept", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.double({ min: -90, max: 90, noNaN: true }), fc.double({ min: -180, max: 180, noNaN: true }), fc.boolean(), fc.boolean()), { maxLength: 120 }),
        fc.integer({ min: 1, max: 8 }),
        (ops, k) => {
          const idx = createNodeIndex();
          const live = new Map<number, NodeRecord>();
          for (const [id, lat, lon, remove, other] of ops) {
            if (remove) {
              idx.remove(node(id, 0, 0).enclave);
              live.delete(id);
            } else {
              const n = node(id, lat, lon, other ? B : A);
              idx.upsert(n);
              live.set(id, n);
            }
          }
          expect(idx.size()).toBe(live.size);
          const odd = (n: NodeRecord): boolean => parseInt(n.enclave.slice(-2), 16) % 2 === 1;
          const q = { lat: 10, lon: 20 };
          const got = idx.nearest({ model: A, near: q, nowSeconds: 10n, limit: k, accept: odd }).map((c) => c.node.enclave);
          const want = rankNodes([...live.values()].filter(odd), { model: A, near: q, nowSeconds: 10n }).slice(0, k).map((c) => c.node.enclave);
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 200 },
    );
  });
});
