/**
 * What the console's map relies on from world-atlas, topojson-client and d3-geo: the
 * 110m countries convert to GeoJSON, a city falls inside its own country and not in
 * another, and the projection the map uses puts east right of west and north above south.
 */
import { createRequire } from "node:module";
import { geoContains, geoEqualEarth } from "d3-geo";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import { describe, expect, it } from "vitest";

const world = createRequire(import.meta.url)("world-atlas/countries-110m.json") as Topology<{ countries: GeometryCollection }>;

describe("world-atlas + topojson-client + d3-geo (the console map)", () => {
  const countries = feature(world, world.objects.countries);
  const named = (n: string): (typeof countries.features)[number] => {
    const f = countries.features.find((c) => (c.properties as { name?: string } | null)?.name === n);
    if (!f) throw new Error(`no ${n}`);
    return f;
  };

  it("ships ~177 countries with names, and Berlin is in Germany, not in Japan", () => {
    expect(countries.features.length).toBeGreaterThan(150);
    expect(geoContains(named("Germany"), [13.405, 52.52])).toBe(true);
    expect(geoContains(named("Japan"), [13.405, 52.52])).toBe(false);
    expect(geoContains(named("Japan"), [139.65, 35.676])).toBe(true);
  });

  it("the Equal Earth projection, fitted to the map, keeps east right and north up", () => {
    const p = geoEqualEarth().fitSize([960, 470], countries);
    const berlin = p([13.405, 52.52]);
    const tokyo = p([139.65, 35.676]);
    const capeTown = p([18.42, -33.92]);
    expect(berlin && tokyo && capeTown).toBeTruthy();
    expect(tokyo![0]).toBeGreaterThan(berlin![0]);
    expect(capeTown![1]).toBeGreaterThan(berlin![1]);
    for (const [x, y] of [berlin!, tokyo!, capeTown!]) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(960);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(470);
    }
  });
});
