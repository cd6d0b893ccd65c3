/**
 * Discovery is a hint, never trust (DESIGN.md "The market"): these functions only order
 * what the registry says; the client attests every node itself before sending it anything.
 */
import type { NodeRecord } from "./chain.js";
import type { Hex32 } from "./typed-data.js";

export interface LatLon {
  readonly lat: number;
  readonly lon: number;
}

export function parseLatLon(text: string): LatLon | null {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
  if (!m) return null;
  const lat = Number(m[1]);
  const lon = Number(m[2]);
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return { lat, lon };
}

/** Great-circle distance in km (haversine, mean Earth radius 6371 km). */
export function distanceKm(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface Candidate {
  readonly node: NodeRecord;
  readonly distanceKm: number | null;
}

/** Unexpired nodes serving `model` (by id), nearest first when `near` is given. */
export function rankNodes(nodes: readonly NodeRecord[], o: { model?: Hex32; near?: LatLon; nowSeconds: bigint }): Candidate[] {
  const out: Candidate[] = [];
  for (const n of nodes) {
    if (n.expiresAt <= o.nowSeconds) continue;
    if (o.model && !n.prices.some((p) => p.model === o.model)) continue;
    out.push({ node: n, distanceKm: o.near ? distanceKm(o.near, n) : null });
  }
  // Equal distances by enclave address: one order for every index and every caller.
  if (o.near) out.sort((a, b) => (a.distanceKm ?? 0) - (b.distanceKm ?? 0) || (a.node.enclave < b.node.enclave ? -1 : a.node.enclave > b.node.enclave ? 1 : 0));
  return out;
}
