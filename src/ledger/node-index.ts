/**
 * In-memory discovery index: nodes by model, in 1° latitude bands. A nearest-k query scans
 * bands outward from the caller's latitude and stops once a band's least possible distance
 * (its latitude gap: a great circle is never shorter than its latitude change) exceeds the
 * k-th best found, so the answer equals a full sort, at a fraction of the work.
 *
 * Why it is laid out like this (bench/discovery.bench.ts): each band keeps its nodes'
 * coordinates in typed arrays (radians, cos(lat) and expiry precomputed), distances are
 * compared as the haversine term h (monotonic in distance, no asin/sqrt per node), the
 * k best sit in a sorted typed array with insertion (the old code re-sorted an array of
 * objects on every improvement: O(k log k) each, and garbage), and the bound is the exact
 * latitude gap of each band. A query allocates only its k results.
 */
import type { NodeRecord } from "./chain.js";
import { distanceKm, type Candidate, type LatLon } from "./discovery.js";
import type { EvmAddress, Hex32 } from "./typed-data.js";

const RAD = Math.PI / 180;
const ANY = "*";

export interface NearestQuery {
  readonly model?: Hex32;
  readonly near?: LatLon;
  readonly nowSeconds: bigint;
  readonly limit: number;
  /** A further filter (revoked measurements...), asked only of nodes that would make the answer. */
  readonly accept?: (n: NodeRecord) => boolean;
}

export interface NodeIndex {
  upsert(n: NodeRecord): void;
  remove(enclave: EvmAddress): void;
  get(enclave: EvmAddress): NodeRecord | undefined;
  size(): number;
  nearest(q: NearestQuery): Candidate[];
}

interface Slot {
  band: Band;
  i: number;
}

class Band {
  n = 0;
  lat = new Float64Array(4);
  lon = new Float64Array(4);
  cos = new Float64Array(4);
  exp = new Float64Array(4);
  recs: NodeRecord[] = [];
  slots: Slot[] = [];

  add(r: NodeRecord): Slot {
    if (this.n === this.lat.length) {
      const grow = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.lat = grow(this.lat);
      this.lon = grow(this.lon);
      this.cos = grow(this.cos);
      this.exp = grow(this.exp);
    }
    const i = this.n++;
    this.lat[i] = r.lat * RAD;
    this.lon[i] = r.lon * RAD;
    this.cos[i] = Math.cos(r.lat * RAD);
    this.exp[i] = Number(r.expiresAt);
    this.recs[i] = r;
    const slot = { band: this as Band, i };
    this.slots[i] = slot;
    return slot;
  }

  /** Swap-remove: the last entry moves into the hole. */
  delete(slot: Slot): void {
    const i = slot.i;
    const last = --this.n;
    if (i !== last) {
      this.lat[i] = this.lat[last]!;
      this.lon[i] = this.lon[last]!;
      this.cos[i] = this.cos[last]!;
      this.exp[i] = this.exp[last]!;
      this.recs[i] = this.recs[last]!;
      const moved = this.slots[last]!;
      moved.i = i;
      this.slots[i] = moved;
    }
    this.recs.length = last;
    this.slots.length = last;
  }
}

const bandOf = (lat: number): number => Math.min(179, Math.max(0, Math.floor(lat + 90)));

/** Least |Δlat| in degrees between `lat` and any point of band `b` ([b-90, b-89)). */
function gapDegrees(lat: number, b: number): number {
  const lo = b - 90;
  const hi = b - 89;
  return lat < lo ? lo - lat : lat > hi ? lat - hi : 0;
}

export function createNodeIndex(): NodeIndex {
  const byEnclave = new Map<string, { rec: NodeRecord; slots: Slot[] }>();
  const bands = new Map<string, Band[]>();
  const bandsFor = (key: string): Band[] => {
    let b = bands.get(key);
    if (!b) {
      b = Array.from({ length: 180 }, () => new Band());
      bands.set(key, b);
    }
    return b;
  };
  let topH = new Float64Array(16);
  let topR: NodeRecord[] = new Array<NodeRecord>(16);
  const remove = (enclave: string): void => {
    const old = byEnclave.get(enclave);
    if (!old) return;
    for (const s of old.slots) s.band.delete(s);
    byEnclave.delete(enclave);
  };

  return {
    upsert(n) {
      remove(n.enclave);
      const b = bandOf(n.lat);
      const keys = new Set<string>([ANY]);
      for (const p of n.prices) keys.add(p.model);
      const slots: Slot[] = [];
      for (const k of keys) slots.push(bandsFor(k)[b]!.add(n));
      byEnclave.set(n.enclave, { rec: n, slots });
    },
    remove,
    get: (enclave) => byEnclave.get(enclave)?.rec,
    size: () => byEnclave.size,
    nearest(q) {
      const bs = bands.get(q.model ?? ANY);
      const k = Math.floor(q.limit);
      if (!bs || !(k > 0)) return [];
      const now = Number(q.nowSeconds);
      if (!q.near) {
        const out: Candidate[] = [];
        for (const band of bs) {
          for (let j = 0; j < band.n && out.length < k; j++) {
            const r = band.recs[j]!;
            if (band.exp[j]! > now && (!q.accept || q.accept(r))) out.push({ node: r, distanceKm: null });
          }
        }
        return out;
      }
      const qLat = q.near.lat;
      const lat0 = qLat * RAD;
      const lon0 = q.near.lon * RAD;
      const cos0 = Math.cos(lat0);
      // Reused across queries (a query runs to completion synchronously): no garbage but the answer.
      if (topH.length < k) {
        topH = new Float64Array(k);
        topR = new Array<NodeRecord>(k);
      }
      let count = 0;
      const scan = (band: Band): void => {
        const { lat, lon, cos, exp, recs } = band;
        for (let j = 0; j < band.n; j++) {
          if (exp[j]! <= now) continue;
          const sLat = Math.sin((lat[j]! - lat0) / 2);
          const sLon = Math.sin((lon[j]! - lon0) / 2);
          const h = sLat * sLat + cos0 * cos[j]! * sLon * sLon;
          if (count === k && h > topH[k - 1]!) continue;
          const r = recs[j]!;
          // Equal distances are ordered by enclave address, as rankNodes orders them, so the answer never depends on insertion order.
          if (count === k && h === topH[k - 1]! && r.enclave >= topR[k - 1]!.enclave) continue;
          if (q.accept && !q.accept(r)) continue;
          // Insertion into the sorted top-k (k is small; shifting beats a heap here).
          let at = count < k ? count++ : k - 1;
          while (at > 0 && (topH[at - 1]! > h || (topH[at - 1]! === h && topR[at - 1]!.enclave > r.enclave))) {
            topH[at] = topH[at - 1]!;
            topR[at] = topR[at - 1]!;
            at--;
          }
          topH[at] = h;
          topR[at] = r;
        }
      };
      const home = bandOf(qLat);
      const bound = (b: number): number => {
        const s = Math.sin((gapDegrees(qLat, b) * RAD) / 2);
        return s * s;
      };
      scan(bs[home]!);
      for (let lo = home - 1, hi = home + 1; lo >= 0 || hi <= 179; lo--, hi++) {
        // Bands farther out only get farther: stop once neither side can beat the k-th best.
        const full = count === k;
        const loOpen = lo >= 0 && (!full || bound(lo) <= topH[k - 1]!);
        const hiOpen = hi <= 179 && (!full || bound(hi) <= topH[k - 1]!);
        if (!loOpen && !hiOpen) break;
        if (loOpen) scan(bs[lo]!);
        if (hiOpen) scan(bs[hi]!);
      }
      const out: Candidate[] = new Array<Candidate>(count);
      // The reported distance is discovery.ts's haversine, exactly what a full sort reports.
      for (let i = 0; i < count; i++) out[i] = { node: topR[i]!, distanceKm: distanceKm(q.near, topR[i]!) };
      topR.fill(undefined as unknown as NodeRecord, 0, count);
      return out;
    },
  };
}
