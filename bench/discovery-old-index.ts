/**
 * THE PREVIOUS in-memory discovery index (before bench/discovery.bench.ts), kept only as the
 * bench's baseline. It was:
 * In-memory discovery index: nodes by model, in 1° latitude bands. A nearest-k query scans
 * bands outward from the caller's latitude and stops once a band's least possible distance
 * (its latitude gap × 111.19 km: a great circle is never shorter than its latitude change)
 * exceeds the k-th best found, so the answer equals a full sort, at a fraction of the work.
 */
import type { NodeRecord } from "../src/ledger/chain.js";
import { distanceKm, type Candidate, type LatLon } from "../src/ledger/discovery.js";
import type { EvmAddress, Hex32 } from "../src/ledger/typed-data.js";

const KM_PER_DEGREE = (Math.PI / 180) * 6371;
const ANY = "*";

export interface NearestQuery {
  readonly model?: Hex32;
  readonly near?: LatLon;
  readonly nowSeconds: bigint;
  readonly limit: number;
}

export interface NodeIndex {
  upsert(n: NodeRecord): void;
  remove(enclave: EvmAddress): void;
  get(enclave: EvmAddress): NodeRecord | undefined;
  size(): number;
  nearest(q: NearestQuery): Candidate[];
}

const band = (lat: number): number => Math.min(179, Math.max(0, Math.floor(lat + 90)));

export function createOldNodeIndex(): NodeIndex {
  const byEnclave = new Map<string, NodeRecord>();
  const bands = new Map<string, Set<NodeRecord>[]>();
  const bandsFor = (key: string): Set<NodeRecord>[] => {
    let b = bands.get(key);
    if (!b) {
      b = Array.from({ length: 180 }, () => new Set<NodeRecord>());
      bands.set(key, b);
    }
    return b;
  };
  const keys = (n: NodeRecord): string[] => [ANY, ...new Set(n.prices.map((p) => p.model))];
  const remove = (enclave: string): void => {
    const old = byEnclave.get(enclave);
    if (!old) return;
    for (const k of keys(old)) bands.get(k)?.[band(old.lat)]?.delete(old);
    byEnclave.delete(enclave);
  };

  return {
    upsert(n) {
      remove(n.enclave);
      byEnclave.set(n.enclave, n);
      for (const k of keys(n)) bandsFor(k)[band(n.lat)]!.add(n);
    },
    remove,
    get: (enclave) => byEnclave.get(enclave),
    size: () => byEnclave.size,
    nearest(q) {
      const b = bands.get(q.model ?? ANY);
      if (!b || q.limit <= 0) return [];
      const live = (n: NodeRecord): boolean => n.expiresAt > q.nowSeconds;
      if (!q.near) {
        const out: Candidate[] = [];
        for (const set of b) for (const n of set) if (live(n) && out.length < q.limit) out.push({ node: n, distanceKm: null });
        return out;
      }
      const near = q.near;
      const best: Candidate[] = [];
      const home = band(near.lat);
      for (let r = 0; r < 180; r++) {
        const lo = home - r;
        const hi = home + r;
        if (lo < 0 && hi > 179) break;
        // The nearest point of band `lo` (or `hi`) is at least this far in latitude.
        const gapKm = Math.max(0, r - 1) * KM_PER_DEGREE;
        if (best.length >= q.limit && best[best.length - 1]!.distanceKm! <= gapKm) break;
        for (const i of r === 0 ? [home] : [lo, hi]) {
          if (i < 0 || i > 179) continue;
          for (const n of b[i]!) {
            if (!live(n)) continue;
            const d = distanceKm(near, n);
            if (best.length < q.limit || d < best[best.length - 1]!.distanceKm!) {
              best.push({ node: n, distanceKm: d });
              best.sort((x, y) => x.distanceKm! - y.distanceKm!);
              if (best.length > q.limit) best.pop();
            }
          }
        }
      }
      return best;
    },
  };
}
