/**
 * The world from Natural Earth (world-atlas, shipped in npm; no tile server), projected
 * with d3-geo, nodes as dots. The map is decoration for sighted users: the list beside it
 * carries the same facts, so the SVG is one labelled image.
 */
import { geoEqualEarth, geoPath } from "d3-geo";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import world from "world-atlas/countries-110m.json";

const W = 960;
const H = 470;
const topo = world as unknown as Topology<{ countries: GeometryCollection }>;
const land = feature(topo, topo.objects.countries);
const projection = geoEqualEarth().fitSize([W, H], land);
const path = geoPath(projection);
const landPath = path(land) ?? "";

export interface MapDot {
  readonly id: string;
  readonly lat: number;
  readonly lon: number;
  readonly label: string;
  readonly status: "ok" | "bad" | "pending";
}

export function WorldMap(props: { dots: readonly MapDot[] }): preact.JSX.Element {
  return (
    <svg class="world" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Map of ${props.dots.length} registered node${props.dots.length === 1 ? "" : "s"}`}>
      <path d={landPath} class="land" />
      {props.dots.map((d) => {
        const xy = projection([d.lon, d.lat]);
        if (!xy) return null;
        return (
          <g class={`dot dot-${d.status}`} data-node={d.id}>
            <circle cx={xy[0]} cy={xy[1]} r={8} />
            <title>{d.label}</title>
          </g>
        );
      })}
    </svg>
  );
}
